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

/** Removes credentials, and masks vehicle ids, in free text such as an error message or a URL. */
export function redactText(text: string): string {
  return text
    .replace(BEARER, '$1 [redacted]')
    .replace(QUERY_SECRETS, '$1[redacted]')
    .replace(VEHICLE_ID, (id) => maskVehicle(id));
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
