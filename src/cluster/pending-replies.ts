/**
 * Requests sent over an IPC channel and waiting for their `reply`, by id. A request whose peer
 * goes away (a worker that died, a supervisor that stopped) is settled by `failAll`.
 */
export class PendingReplies {
  private next = 1;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();

  /** A new id and the promise its reply settles. */
  open<T>(): { id: number; reply: Promise<T> } {
    const id = this.next++;
    const reply = new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject }));
    return { id, reply };
  }

  settle(id: number, value: unknown): void {
    const entry = this.waiting.get(id);
    if (!entry) return;
    this.waiting.delete(id);
    entry.resolve(value);
  }

  failAll(err: Error): void {
    for (const entry of this.waiting.values()) entry.reject(err);
    this.waiting.clear();
  }
}
