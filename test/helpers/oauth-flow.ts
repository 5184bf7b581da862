import { createHash, randomBytes } from 'node:crypto';
import { DEMO_OWNER, parseConsentPage, signIn, type ConsentForm } from '../../src/sim/owner/demo-browser';

export { DEMO_OWNER, parseConsentPage, signIn, type ConsentForm };

/**
 * The OAuth dance against a running simulator, over real HTTP, as a browser
 * and an app would do it. Shared by every suite that needs a real token.
 */

export const DEMO_CLIENT = {
  clientId: 'demo-client',
  clientSecret: 'demo-secret',
  redirectUri: 'http://127.0.0.1:1880/ford-connect/auth/callback',
};
export const FLEET_CLIENT = { clientId: 'fleet-client', clientSecret: 'fleet-secret' };

/** A token endpoint answer: the Ford-shaped success fields or an OAuth error. */
export interface TokenBody {
  access_token?: string;
  token_type?: string;
  expires_in?: number;
  expires_on?: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
}

export interface IntrospectionBody {
  active: boolean;
  scope?: string;
  client_id?: string;
  token_type?: string;
  exp?: number;
  iat?: number;
  sub?: string;
  error?: string;
}

export interface HttpResult<T> {
  status: number;
  headers: Headers;
  body: T;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizeOptions {
  clientId?: string;
  redirectUri?: string;
  /** What the app asks for (`scope` parameter). */
  scopes: string[];
  /** Scopes to tick on the consent page; default: every scope the page offers (what was requested). */
  tick?: string[];
  /** Vehicle ids to tick; default: every vehicle the page offers. */
  vehicles?: string[];
  decision?: 'allow' | 'deny';
  email?: string;
  password?: string;
  /** An existing session cookie instead of signing in. */
  cookie?: string;
  state?: string;
  /** Override the PKCE pair (or pass extra/changed authorize parameters below). */
  pkce?: { verifier: string; challenge: string };
  extraParams?: Record<string, string>;
}

export interface AuthorizeResult {
  /** The URL the browser was sent back to (the app's redirect URI with code or error). */
  redirect: URL;
  code?: string;
  state?: string;
  error?: string;
  verifier: string;
  consent: ConsentForm;
}

export function authorizeUrl(simUrl: string, params: Record<string, string>): string {
  return `${simUrl}/oauth2/v2.0/authorize?${new URLSearchParams(params).toString()}`;
}

/** Browser side of the flow: sign in, open the consent page, tick, answer, follow the redirect back. */
export async function authorize(simUrl: string, options: AuthorizeOptions): Promise<AuthorizeResult> {
  const pkce = options.pkce ?? pkcePair();
  const state = options.state ?? randomBytes(8).toString('hex');
  const cookie = options.cookie ?? (await signIn(simUrl, options.email, options.password));
  const url = authorizeUrl(simUrl, {
    client_id: options.clientId ?? DEMO_CLIENT.clientId,
    redirect_uri: options.redirectUri ?? DEMO_CLIENT.redirectUri,
    response_type: 'code',
    scope: options.scopes.join(' '),
    state,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...options.extraParams,
  });
  const page = await fetch(url, { headers: { cookie }, redirect: 'manual' });
  if (page.status !== 200) throw new Error(`the consent page did not open: HTTP ${page.status} ${page.headers.get('location') ?? ''}`);
  const consent = parseConsentPage(await page.text());

  const form = new URLSearchParams({ consent_id: consent.consentId, decision: options.decision ?? 'allow' });
  for (const s of options.tick ?? consent.scopes.map((b) => b.value)) form.append('scope', s);
  for (const v of options.vehicles ?? consent.vehicles.map((b) => b.value)) form.append('vehicle', v);
  const answer = await fetch(`${simUrl}/oauth2/v2.0/authorize`, { method: 'POST', headers: { cookie }, body: form, redirect: 'manual' });
  const location = answer.headers.get('location');
  if (answer.status < 300 || answer.status > 399 || !location) throw new Error(`the consent answer did not redirect: HTTP ${answer.status}`);
  const redirect = new URL(location, simUrl);
  return {
    redirect,
    code: redirect.searchParams.get('code') ?? undefined,
    state: redirect.searchParams.get('state') ?? undefined,
    error: redirect.searchParams.get('error') ?? undefined,
    verifier: pkce.verifier,
    consent,
  };
}

async function readBody<T>(res: Response): Promise<T> {
  const text = await res.text();
  try {
    return (text ? JSON.parse(text) : {}) as T;
  } catch {
    return { raw: text } as T;
  }
}

export interface ClientAuth {
  clientId?: string;
  clientSecret?: string;
  /** Send the secret with HTTP Basic instead of in the body. */
  basic?: boolean;
}

/** POSTs a form to an OAuth endpoint with client authentication, parsing the JSON answer. */
export async function postOAuth<T>(url: string, fields: Record<string, string>, auth: ClientAuth = {}): Promise<HttpResult<T>> {
  const clientId = auth.clientId ?? DEMO_CLIENT.clientId;
  const clientSecret = auth.clientSecret ?? DEMO_CLIENT.clientSecret;
  const headers: Record<string, string> = {};
  const body = new URLSearchParams(fields);
  if (auth.basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
  else {
    body.set('client_id', clientId);
    body.set('client_secret', clientSecret);
  }
  const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual' });
  return { status: res.status, headers: res.headers, body: await readBody<T>(res) };
}

export interface TokenCallOptions extends ClientAuth {
  /** Another token URL, e.g. Ford's `/<tenant>/oauth2/v2.0/token?p=…`. */
  tokenPath?: string;
}

function tokenUrl(simUrl: string, options: TokenCallOptions): string {
  return `${simUrl}${options.tokenPath ?? '/oauth2/v2.0/token'}`;
}

export function exchangeCode(
  simUrl: string,
  options: TokenCallOptions & { code: string; verifier?: string; redirectUri?: string },
): Promise<HttpResult<TokenBody>> {
  const fields: Record<string, string> = { grant_type: 'authorization_code', code: options.code, redirect_uri: options.redirectUri ?? DEMO_CLIENT.redirectUri };
  if (options.verifier !== undefined) fields.code_verifier = options.verifier;
  return postOAuth<TokenBody>(tokenUrl(simUrl, options), fields, options);
}

export function refresh(simUrl: string, options: TokenCallOptions & { refreshToken: string; scope?: string }): Promise<HttpResult<TokenBody>> {
  const fields: Record<string, string> = { grant_type: 'refresh_token', refresh_token: options.refreshToken };
  if (options.scope !== undefined) fields.scope = options.scope;
  return postOAuth<TokenBody>(tokenUrl(simUrl, options), fields, options);
}

export function clientCredentials(simUrl: string, options: TokenCallOptions & { scope?: string } = {}): Promise<HttpResult<TokenBody>> {
  const fields: Record<string, string> = { grant_type: 'client_credentials' };
  if (options.scope !== undefined) fields.scope = options.scope;
  return postOAuth<TokenBody>(tokenUrl(simUrl, options), fields, { clientId: FLEET_CLIENT.clientId, clientSecret: FLEET_CLIENT.clientSecret, ...options });
}

export function introspect(simUrl: string, token: string, options: ClientAuth & { hint?: string } = {}): Promise<HttpResult<IntrospectionBody>> {
  const fields: Record<string, string> = { token };
  if (options.hint) fields.token_type_hint = options.hint;
  return postOAuth<IntrospectionBody>(`${simUrl}/oauth2/v2.0/introspect`, fields, options);
}

export function revoke(simUrl: string, token: string, options: ClientAuth & { hint?: string } = {}): Promise<HttpResult<TokenBody>> {
  const fields: Record<string, string> = { token };
  if (options.hint) fields.token_type_hint = options.hint;
  return postOAuth<TokenBody>(`${simUrl}/oauth2/v2.0/revoke`, fields, options);
}

/** The whole authorization-code flow: consent, then the code exchanged for tokens (which must succeed). */
export async function connect(simUrl: string, options: AuthorizeOptions): Promise<TokenBody & { access_token: string; refresh_token: string; scope: string }> {
  const auth = await authorize(simUrl, options);
  if (!auth.code) throw new Error(`no code: ${auth.error ?? 'unknown error'}`);
  const res = await exchangeCode(simUrl, { code: auth.code, verifier: auth.verifier, redirectUri: options.redirectUri, clientId: options.clientId });
  const { access_token, refresh_token, scope } = res.body;
  if (res.status !== 200 || !access_token || !refresh_token || scope === undefined) throw new Error(`code exchange failed: HTTP ${res.status} ${res.body.error ?? ''}`);
  return { ...res.body, access_token, refresh_token, scope };
}
