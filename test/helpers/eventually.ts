/** Polls `predicate` with backoff until it returns true (or a truthy value) or `within` ms pass. */
export async function eventually<T>(predicate: () => T | Promise<T>, opts: { within?: number; message?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.within ?? 10_000);
  let delay = 5;
  let last: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${opts.message ?? 'condition not met'} within ${opts.within ?? 10_000} ms${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}
