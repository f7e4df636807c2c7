import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { CertStore, CertStoreLock } from './cert-store.js';

interface LockRecord {
  readonly token: string;
  readonly expiresAt: number;
}

/**
 * A CertStore on the local disk under `tls.certs`: atomic writes (temporary file + rename),
 * private keys mode 0600, lock files created with O_EXCL that expire after their TTL.
 */
export class FileCertStore implements CertStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  async load(key: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.pathOf(key));
    } catch (err) {
      if (isCode(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async store(key: string, value: Buffer): Promise<void> {
    const target = this.pathOf(key);
    // The directory holds private keys: only the owner may list it.
    await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    const tmp = `${target}.tmp-${randomUUID()}`;
    // Keys are secret from the first byte on: the mode is set when the file is created.
    const handle = await fs.open(tmp, 'wx', key.endsWith('.key') ? 0o600 : 0o644);
    try {
      await handle.writeFile(value);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      // rename(2) is atomic within one filesystem: readers see the old file or the new one.
      await fs.rename(tmp, target);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    let entries: string[];
    try {
      entries = await fs.readdir(this.dir, { recursive: true });
    } catch (err) {
      if (isCode(err, 'ENOENT')) return [];
      throw err;
    }
    return entries
      .map((entry) => entry.split(path.sep).join('/'))
      .filter((key) => key.startsWith(prefix) && !key.startsWith('locks/') && !key.includes('.tmp-'))
      .filter((key) => /\.(crt|key)$/.test(key))
      .sort();
  }

  async lock(key: string, ttlMs: number): Promise<CertStoreLock | undefined> {
    const file = path.join(this.dir, 'locks', `${this.relative(key)}.lock`);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const token = randomUUID();
    if (await createExclusive(file, { token, expiresAt: Date.now() + ttlMs })) return releaser(file, token);
    if (!(await takeOverStale(file, token))) return undefined;
    return (await createExclusive(file, { token, expiresAt: Date.now() + ttlMs })) ? releaser(file, token) : undefined;
  }

  private pathOf(key: string): string {
    return path.join(this.dir, this.relative(key));
  }

  private relative(key: string): string {
    const normal = path.posix.normalize(key);
    // Keys come from configured host names; never let one escape the certs directory.
    if (normal.startsWith('../') || normal === '..' || path.posix.isAbsolute(normal)) {
      throw new TypeError(`invalid store key ${JSON.stringify(key)}`);
    }
    return normal.split('/').join(path.sep);
  }
}

async function createExclusive(file: string, record: LockRecord): Promise<boolean> {
  try {
    await fs.writeFile(file, JSON.stringify(record), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if (isCode(err, 'EEXIST')) return false;
    throw err;
  }
}

/**
 * Removes `file` if its lock has expired. The stale file is first renamed aside (atomic, so of
 * two contenders only one gets it) and checked: had a fresh lock replaced it meanwhile, it is
 * put back with link(2), which never overwrites a newer lock.
 */
async function takeOverStale(file: string, token: string): Promise<boolean> {
  const seen = await readLock(file);
  if (seen && seen.expiresAt > Date.now()) return false;
  // An unreadable lock may be one being written right now: stale only once it is old.
  if (!seen && !(await olderThan(file, TORN_LOCK_GRACE_MS))) return false;
  const aside = `${file}.${token}.stale`;
  try {
    await fs.rename(file, aside);
  } catch (err) {
    if (isCode(err, 'ENOENT')) return true; // released meanwhile: just try to create it
    throw err;
  }
  const grabbed = await readLock(aside);
  if (grabbed && grabbed.expiresAt > Date.now()) {
    await fs.link(aside, file).catch(() => undefined); // EEXIST: someone holds a newer lock anyway
    await fs.rm(aside, { force: true });
    return false;
  }
  await fs.rm(aside, { force: true });
  return true;
}

const TORN_LOCK_GRACE_MS = 5_000;

async function olderThan(file: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await fs.stat(file)).mtimeMs > ms;
  } catch (err) {
    if (isCode(err, 'ENOENT')) return true;
    throw err;
  }
}

async function readLock(file: string): Promise<LockRecord | undefined> {
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'token' in parsed && 'expiresAt' in parsed) {
      const { token, expiresAt } = parsed;
      if (typeof token === 'string' && typeof expiresAt === 'number') return { token, expiresAt };
    }
    return undefined; // a torn or foreign file counts as expired
  } catch (err) {
    if (isCode(err, 'ENOENT') || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

function releaser(file: string, token: string): CertStoreLock {
  return {
    async refresh(ttlMs) {
      // Only our own lock, and only while it is unexpired: once expired another holder may
      // take it over at any moment. Written aside and renamed in, so a reader never sees a
      // torn record.
      const current = await readLock(file);
      if (current?.token !== token || current.expiresAt <= Date.now()) return false;
      const next = `${file}.${token}.refresh`;
      await fs.writeFile(next, JSON.stringify({ token, expiresAt: Date.now() + ttlMs }), { mode: 0o600 });
      await fs.rename(next, file);
      return true;
    },
    async release() {
      // Only delete our own lock: after expiry another holder may own the file now.
      const current = await readLock(file);
      if (current?.token === token) await fs.rm(file, { force: true });
    },
  };
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}
