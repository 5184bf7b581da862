import type { OAuthStore } from './store';
import { readRequestedScopes } from './requested-scopes';
import { checkClientAndRedirect, checkCodeRequest, checkS256Challenge, failTo, paramReader, type CheckedRequest, type MissingParamWords, type RequestCheck } from './authorize-steps';

/**
 * Checks a catalogue (FordConnect v1) authorization request (RFC 6749 4.1.1
 * + RFC 7636) before the owner sees anything. The steps FordConnect Query's
 * auth/init shares are in authorize-steps.ts; this endpoint's own rules are
 * here: any printable state, PKCE required, scopes from the catalogue, max_age.
 */

export interface ValidAuthorizeRequest extends CheckedRequest {
  codeChallengeMethod: 'S256';
  /** Catalogue scopes asked for, `access` expanded. */
  scopes: string[];
  /** RFC 9470 / OIDC `max_age`: the app wants an owner sign-in at most this many seconds old. */
  maxAge?: number;
}

export type AuthorizeCheck = RequestCheck<ValidAuthorizeRequest>;

/** RFC 6749 appendix A: state and other values are printable ASCII. */
const VSCHAR = /^[\x20-\x7E]+$/;
const MISSING: MissingParamWords = {
  noClient: 'The request does not say which app is asking (client_id is missing).',
  repeatedClient: 'The request names more than one app (client_id).',
  noRedirect: 'The request does not say where to send you back (redirect_uri is missing).',
};

export function checkAuthorizeRequest(store: OAuthStore, query: Record<string, unknown>): AuthorizeCheck {
  const one = paramReader(query);

  const known = checkClientAndRedirect(store, one, MISSING);
  if (known.kind !== 'ok') return known;
  const { client, redirectUri } = known;

  // A state that is not printable ASCII is not echoed back with the error.
  const rawState = one('state');
  const state = typeof rawState === 'string' && VSCHAR.test(rawState) ? rawState : undefined;
  const fail = failTo(redirectUri, state);

  const refused = checkCodeRequest(query, one, client, fail);
  if (refused) return refused;

  if (!rawState) return fail('invalid_request', 'Missing parameter: `state`');
  if (!state) return fail('invalid_request', 'Invalid parameter: `state`');

  // PKCE is required here.
  const method = one('code_challenge_method');
  const challenge = one('code_challenge');
  if (!challenge || !method) return fail('invalid_request', 'Invalid request: PKCE is required (`code_challenge` with `code_challenge_method=S256`)');
  const badChallenge = checkS256Challenge(challenge, method, fail);
  if (badChallenge) return badChallenge;

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
