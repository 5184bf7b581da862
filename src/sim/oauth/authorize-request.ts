import type { OAuthStore, SimClient } from './store';
import { readRequestedScopes } from './requested-scopes';

/**
 * Checks an authorization request (RFC 6749 4.1.1 + RFC 7636) before the
 * owner sees anything. Client and redirect URI come first: until both are
 * known good, the only safe answer is a page on our own site (4.1.2.1),
 * never a redirect to an address we cannot vouch for.
 */

export interface ValidAuthorizeRequest {
  client: SimClient;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  codeChallengeMethod: 'S256';
  /** Catalogue scopes asked for, `access` expanded. */
  scopes: string[];
  rawScope: string;
  /** RFC 9470 / OIDC `max_age`: the app wants an owner sign-in at most this many seconds old. */
  maxAge?: number;
}

export type AuthorizeCheck =
  | { kind: 'page'; title: string; message: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'ok'; request: ValidAuthorizeRequest };

/** RFC 6749 appendix A: state and other values are printable ASCII. */
const VSCHAR = /^[\x20-\x7E]+$/;
/** RFC 7636 4.2: a S256 challenge is 43 base64url characters; the ABNF allows 43 to 128. */
const CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;

/** The client's redirect URI with the error (and the state, when there is one) in its query. */
export function errorRedirect(redirectUri: string, error: string, description: string, state?: string): string {
  const url = new URL(redirectUri);
  url.searchParams.set('error', error);
  url.searchParams.set('error_description', description);
  if (state) url.searchParams.set('state', state);
  return url.toString();
}

export function checkAuthorizeRequest(store: OAuthStore, query: Record<string, unknown>): AuthorizeCheck {
  const one = (name: string): string | undefined | null => {
    const value = query[name];
    if (value === undefined) return undefined;
    return typeof value === 'string' ? value : null; // null: sent more than once
  };

  const clientId = one('client_id');
  if (!clientId) {
    return { kind: 'page', title: 'Unknown app', message: clientId === null ? 'The request names more than one app (client_id).' : 'The request does not say which app is asking (client_id is missing).' };
  }
  const client = store.clients.get(clientId);
  if (!client) return { kind: 'page', title: 'Unknown app', message: 'No app is registered with this client_id. Check the app\'s settings.' };

  const redirectUri = one('redirect_uri');
  // Exact string match (RFC 9700 2.1): no prefix, no normalisation, no default.
  if (typeof redirectUri !== 'string' || !client.redirectUris.includes(redirectUri)) {
    return {
      kind: 'page',
      title: 'Wrong redirect address',
      message: redirectUri
        ? `This app did not register the redirect address it asked for. Registered: ${client.redirectUris.join(', ') || 'none'}.`
        : 'The request does not say where to send you back (redirect_uri is missing).',
    };
  }

  const rawState = one('state');
  const state = typeof rawState === 'string' && VSCHAR.test(rawState) ? rawState : undefined;
  const fail = (error: string, description: string): AuthorizeCheck => ({ kind: 'redirect', location: errorRedirect(redirectUri, error, description, state) });

  for (const name of Object.keys(query)) {
    if (one(name) === null) return fail('invalid_request', `Invalid request: parameter \`${name}\` must appear once`);
  }
  if (!client.grants.includes('authorization_code')) return fail('unauthorized_client', 'Unauthorized client: this app may not use the authorization code grant');

  const responseType = one('response_type');
  if (!responseType) return fail('invalid_request', 'Missing parameter: `response_type`');
  if (responseType !== 'code') return fail('unsupported_response_type', 'Unsupported response type: only `code` is supported');

  if (!rawState) return fail('invalid_request', 'Missing parameter: `state`');
  if (!state) return fail('invalid_request', 'Invalid parameter: `state`');

  const method = one('code_challenge_method');
  const challenge = one('code_challenge');
  if (!challenge || !method) return fail('invalid_request', 'Invalid request: PKCE is required (`code_challenge` with `code_challenge_method=S256`)');
  if (method !== 'S256') return fail('invalid_request', `Invalid request: \`code_challenge_method\` "${method}" is not allowed; use "S256"`);
  if (!CHALLENGE.test(challenge)) return fail('invalid_request', 'Invalid parameter: `code_challenge`');

  const rawScope = one('scope') ?? '';
  const reading = readRequestedScopes(rawScope, client.id);
  if (!reading.ok) return fail('invalid_scope', `Invalid scope: unknown scope ${reading.unknown.map((s) => `\`${s}\``).join(', ')}`);
  if (reading.scopes.length === 0) return fail('invalid_scope', 'Invalid scope: ask for at least one vehicle scope (or `access`)');

  const rawMaxAge = one('max_age');
  if (rawMaxAge !== undefined && (typeof rawMaxAge !== 'string' || !/^\d{1,9}$/.test(rawMaxAge))) return fail('invalid_request', 'Invalid parameter: `max_age` must be a whole number of seconds');
  const maxAge = typeof rawMaxAge === 'string' ? Number(rawMaxAge) : undefined;

  return {
    kind: 'ok',
    request: { client, redirectUri, state, codeChallenge: challenge, codeChallengeMethod: 'S256', scopes: reading.scopes, rawScope, ...(maxAge !== undefined ? { maxAge } : {}) },
  };
}
