import { createHash } from 'node:crypto';
import type { ConfigSource } from './load-config.js';

/**
 * SHA-256 of a config's UTF-8 bytes, hex: a file's text and its bytes as read digest alike. A
 * reload compares digests to skip a file that did not change, so the text need not be kept.
 */
export function configDigest(source: ConfigSource): string {
  return createHash('sha256').update(source).digest('hex');
}
