import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { sendOAuthError } from './oauth-errors';
import type { OAuthStore, SimClient } from './store';

/** RFC 7235: a 401 names the scheme that would work. */
export const CLIENT_CHALLENGE = 'Basic realm="ford-sim", charset="UTF-8"';

/** Compares secrets in constant time (hashing first evens out the lengths). */
export function secretMatches(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/** The registered client if id and secret are right, else undefined. */
export function authenticClient(store: OAuthStore, clientId: string, secret: string): SimClient | undefined {
  const client = store.clients.get(clientId);
  return client && secretMatches(client.secret, secret) ? client : undefined;
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

export type ClientCredentials = { clientId: string; secret: string; via: 'basic' | 'body' };

/**
 * Client credentials from HTTP Basic (RFC 6749 2.3.1: id and secret are
 * form-encoded before base64) or from the body; Basic wins, as on the token endpoint.
 */
export function clientCredentials(req: Request): ClientCredentials | undefined {
  const header = req.get('authorization');
  const basic = header ? /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(header) : null;
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    return { clientId: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)), via: 'basic' };
  }
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (typeof body.client_id === 'string' && typeof body.client_secret === 'string') {
    return { clientId: body.client_id, secret: body.client_secret, via: 'body' };
  }
  return undefined;
}

/** The authenticated client of a revocation or introspection call, or undefined after answering 401. */
export function requireClient(store: OAuthStore, req: Request, res: Response): SimClient | undefined {
  const credentials = clientCredentials(req);
  const client = credentials && authenticClient(store, credentials.clientId, credentials.secret);
  if (client) return client;
  res.set('WWW-Authenticate', CLIENT_CHALLENGE);
  sendOAuthError(res, 401, 'invalid_client', 'Invalid client: client authentication failed (HTTP Basic or client_id and client_secret in the body)');
  return undefined;
}
