/**
 * Masking for everything that leaves a node (status, logs, audit, errors):
 * VINs and vehicle ids keep their last 4 characters, tokens and secrets
 * vanish, coordinates never appear.
 */

export function maskVehicle(id: string | undefined): string {
  return id ? `…${id.slice(-4)}` : '';
}

const SECRET_KEYS = /^(access_?token|refresh_?token|id_?token|client_?secret|code|code_?verifier|password|authorization|secret|token)$/i;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
const QUERY_SECRETS = /([?&](?:code|access_token|refresh_token|id_token|client_secret|code_verifier|token)=)[^&#\s]+/gi;

const VEHICLE_ID = /\b[0-9a-f]{32}\b/gi;
/**
 * Anything shaped like a bearer credential: 32 or more base64url characters
 * (dots for a JWT) mixing upper case, lower case and digits. A provider that
 * quotes the token it refused in its error message must not get it into a
 * status, an audit record or a log line. Hex ids, UUIDs and words never
 * match (no upper case, or too short).
 */
const TOKEN_SHAPED = /(?<![A-Za-z0-9._-])(?=[A-Za-z0-9._-]*[A-Z])(?=[A-Za-z0-9._-]*[a-z])(?=[A-Za-z0-9._-]*[0-9])[A-Za-z0-9._-]{32,}/g;

/**
 * Characters that can forge or hide a log line when a text quotes what a
 * flow or an API sent: C0 and C1 controls (newlines, NUL, the ESC of ANSI
 * colours), Unicode line and paragraph separators, bidirectional overrides
 * and invisible marks.
 */
// eslint-disable-next-line no-control-regex -- these are the characters to find
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** The text on one line with every such character written out (`\n`, `\u001b`): what it said stays readable, nothing it says can start a new line. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/** Longer free text is cut: an API's error message is not the place for a megabyte that ends up in every log line and audit record. */
export const MAX_TEXT = 1000;

/** Removes credentials, and masks vehicle ids, in free text such as an error message or a URL; one printable line of at most {@link MAX_TEXT} characters. */
export function redactText(text: string): string {
  // Redacted before it is cut, so no credential survives as a stub at the cut.
  const clean = printable(
    text
      .replace(BEARER, '$1 [redacted]')
      .replace(QUERY_SECRETS, '$1[redacted]')
      .replace(TOKEN_SHAPED, '[redacted]')
      .replace(VEHICLE_ID, (id) => maskVehicle(id)),
  );
  return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT)}…` : clean;
}

/** Deep copy with secret-looking keys redacted, for anything that may be logged. */
export function redactObject<T>(value: T, depth = 0): T {
  if (depth > 8 || value === null || typeof value !== 'object') return typeof value === 'string' ? (redactText(value) as T) : value;
  if (Array.isArray(value)) return value.map((v) => redactObject(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEYS.test(k) ? '[redacted]' : redactObject(v, depth + 1);
  }
  return out as T;
}
