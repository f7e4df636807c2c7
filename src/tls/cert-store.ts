/** A held lock; `release()` is safe to call once the lock has expired or been taken over. */
export interface CertStoreLock {
  /**
   * Extends the lock to expire `ttlMs` from now, if it is still this holder's: false once it
   * has expired or been taken over. A long piece of work refreshes well before expiry, so the
   * TTL can stay short and a crashed holder is replaced soon.
   */
  refresh(ttlMs: number): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Where certificates, keys and the ACME account key live (after certmagic's `Storage`).
 * Keys are slash-separated paths such as `acme/example.com.crt` (SPEC §3 layout).
 */
export interface CertStore {
  /** The stored bytes, or undefined when the key does not exist. */
  load(key: string): Promise<Buffer | undefined>;
  /** Writes atomically: a reader sees the old value or the new one, never a mix. */
  store(key: string, value: Buffer): Promise<void>;
  /** Every stored key that starts with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /**
   * Try-lock: the lock, or undefined while another holder has it. It expires by itself after
   * `ttlMs`, so a crashed holder cannot block others forever; whoever gets it must re-check
   * whether the work is still needed (another holder may just have done it).
   */
  lock(key: string, ttlMs: number): Promise<CertStoreLock | undefined>;
}
