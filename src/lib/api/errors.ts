/**
 * Every way a vehicle API call can fail, as one error type a node can show
 * and audit: what kind, the HTTP status, and a message free of secrets.
 */
export type ApiErrorKind =
  | 'auth' // token missing, expired or revoked (after the one refresh + retry)
  | 'reauth' // the grant is gone: the owner must authorize again
  | 'scope' // the token lacks the scope
  | 'step-up' // the provider asks for fresh user authentication (RFC 9470)
  | 'forbidden' // e.g. the IP allow-list
  | 'not-found' // unknown vehicle or unsupported endpoint
  | 'not-acceptable' // e.g. charge command on a vehicle that cannot charge
  | 'rate-limited'
  | 'bad-request'
  | 'server'
  | 'network'
  | 'bad-response'; // a body that is not what the API documents

export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly httpStatus?: number,
    /** Seconds to wait, from Retry-After (or a safe default when absent). */
    readonly retryAfterSeconds?: number,
    /** The scope a 403 named. */
    readonly scope?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A request that never left this machine (no connection could be made): nothing reached the API. */
export class NotSentError extends ApiError {}

/** Parses Retry-After: delta seconds or an HTTP date. */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** Reads `error="…"` and `scope="…"` from a WWW-Authenticate header. */
export function parseWwwAuthenticate(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'string') return out;
  for (const m of value.matchAll(/([a-z_]+)="([^"]*)"/gi)) out[m[1].toLowerCase()] = m[2];
  return out;
}
