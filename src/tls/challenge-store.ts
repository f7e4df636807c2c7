/**
 * HTTP-01 key authorizations by token (RFC 8555 §8.3): written while an order is pending,
 * read by the HTTP listener at `/.well-known/acme-challenge/<token>`.
 */
export interface ChallengeStore {
  set(token: string, keyAuthorization: string): Promise<void>;
  get(token: string): Promise<string | undefined>;
  remove(token: string): Promise<void>;
}
