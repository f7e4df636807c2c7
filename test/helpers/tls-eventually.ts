/** Polls `check` until it returns a truthy value (returned) or `within` ms pass (then throws). */
export async function eventuallyTls<T>(check: () => T | Promise<T>, opts: { within?: number; every?: number; what?: string } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.within ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${opts.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, opts.every ?? 25));
  }
}
