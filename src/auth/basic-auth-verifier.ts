import { randomBytes } from 'node:crypto';
import type { BasicAuthConfig } from '../config/config-types.js';

/** A user name and password decoded from an `Authorization: Basic …` header. */
export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

/** An async password check: the bcrypt pool in production, a spy in tests. */
export type PasswordCompare = (password: string, hash: string) => Promise<boolean>;

/** The compiled password check of one host's `basicAuth`. */
export interface BasicAuthVerifier {
  /** The hash a credential for `user` is checked against: the user's own, or the dummy. */
  expectedHash(user: string): string;
  /** One bcrypt comparison; always false for an unknown user, after the same work. */
  verify(credentials: BasicCredentials, expectedHash: string): Promise<boolean>;
}

// bcrypt's own base64 alphabet (not RFC 4648): salt and checksum use only these characters.
const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BCRYPT_HASH = /^\$2[abxy]?\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const DEFAULT_COST = 10;

/**
 * Compiles a host's users into a verifier. An unknown user is compared against a dummy hash of
 * the highest cost among the host's users, so the response time does not tell who exists
 * (SPEC §3 Basic Auth). There is no default `compare`: bcryptjs is pure JavaScript and even its
 * async compare runs on the calling thread, so production passes the worker pool's (STYLE §2.14).
 */
export function createBasicAuthVerifier(config: BasicAuthConfig, compare: PasswordCompare): BasicAuthVerifier {
  // A Map, not the config object: a user named "__proto__" or "constructor" must not resolve
  // to an inherited property.
  const users = new Map(Object.entries(config.users));
  const dummy = dummyHash(highestCost(users.values()));

  return {
    expectedHash: (user) => users.get(user) ?? dummy,
    async verify(credentials, expectedHash) {
      const ok = await compare(credentials.password, expectedHash);
      return ok && expectedHash !== dummy;
    },
  };
}

/**
 * Decodes `Basic <base64(user:password)>` (RFC 7617); the scheme is case-insensitive.
 * Anything else is treated as no credentials at all.
 */
export function parseBasicCredentials(header: string | undefined): BasicCredentials | undefined {
  if (header === undefined) return undefined;
  const match = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (match === null || match[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function highestCost(hashes: Iterable<string>): number {
  let cost = 0;
  for (const hash of hashes) {
    const rounds = BCRYPT_HASH.exec(hash)?.[1];
    if (rounds !== undefined) cost = Math.max(cost, Number(rounds));
  }
  return cost === 0 ? DEFAULT_COST : cost;
}

/**
 * A well-formed bcrypt hash of `cost` with random salt and checksum, built as a string so that
 * compiling a config costs nothing (hashing at cost 12 would take ~250 ms per host and reload).
 * No password matches it, and `verify` refuses it even if one did.
 */
function dummyHash(cost: number): string {
  const bytes = randomBytes(53);
  let tail = '';
  // 256 is a multiple of 64, so `% 64` picks every character with equal probability.
  for (const byte of bytes) tail += BCRYPT_ALPHABET[byte % 64];
  return `$2b$${String(cost).padStart(2, '0')}$${tail}`;
}
