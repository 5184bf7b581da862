import { createHash, randomBytes } from 'node:crypto';
import type { RunningSimulator } from '../../src/sim';
import { createQueryGrant } from '../../src/sim/oauth/fcon-categories';
import { DEMO_CLIENT, signIn } from './oauth-flow';

/**
 * FordConnect Query's OAuth dance and API calls against a running simulator,
 * over real HTTP, as the owner's browser and an app would do them.
 */

export const FCON = {
  init: '/fcon-public/v1/auth/init',
  tokenPath: '/dah2vb2cprod.onmicrosoft.com/oauth2/v2.0/token',
  policy: 'B2C_1A_FCON_AUTHORIZE',
  api: '/fcon-query/v1',
};

export const ALL_CATEGORIES = ['status', 'location', 'evData', 'health'];

/** A short hex state, as Ford's login proxy wants. */
export function hexState(): string {
  return randomBytes(8).toString('hex');
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function unescapeHtml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export interface QueryConsentForm {
  consentId: string;
  vehicles: { value: string; checked: boolean; type: string }[];
  categories: { value: string; checked: boolean; sensitive: boolean }[];
  html: string;
}

export function parseQueryConsent(html: string): QueryConsentForm {
  const consentId = /name="consent_id" value="([^"]*)"/.exec(html)?.[1];
  if (!consentId) throw new Error('no consent_id on the page');
  const inputs = (name: string) =>
    [...html.matchAll(new RegExp(`<input type="(checkbox|radio)" name="${name}" value="([^"]*)"( checked)?>([\\s\\S]*?)</label>`, 'g'))].map((m) => ({
      type: m[1],
      value: unescapeHtml(m[2]),
      checked: m[3] !== undefined,
      sensitive: m[4].includes('class="sensitive"'),
    }));
  return {
    consentId: unescapeHtml(consentId),
    vehicles: inputs('vehicle').map(({ value, checked, type }) => ({ value, checked, type })),
    categories: inputs('category').map(({ value, checked, sensitive }) => ({ value, checked, sensitive })),
    html,
  };
}

export function initUrl(simUrl: string, params: Record<string, string>): string {
  return `${simUrl}${FCON.init}?${new URLSearchParams(params).toString()}`;
}

export interface QueryAuthorizeOptions {
  /** The vehicle to pick (radio button); omit to send none. */
  vehicle?: string;
  /** Extra vehicle values to send (a tampered form). */
  extraVehicles?: string[];
  /** Categories to tick; default: what the page ticks by itself. */
  categories?: string[];
  decision?: 'allow' | 'deny';
  state?: string;
  /** Send S256 PKCE: a fresh pair, or this verifier. */
  pkce?: boolean | string;
  cookie?: string;
  email?: string;
  clientId?: string;
  redirectUri?: string;
  scope?: string;
}

export interface QueryAuthorizeResult {
  status: number;
  redirect?: URL;
  code?: string;
  state?: string;
  error?: string;
  verifier?: string;
  consent: QueryConsentForm;
  /** The page shown again after a refused answer. */
  html?: string;
}

/** Browser side: sign in, open auth/init, pick one vehicle and the categories, answer. */
export async function queryAuthorize(simUrl: string, options: QueryAuthorizeOptions): Promise<QueryAuthorizeResult> {
  const cookie = options.cookie ?? (await signIn(simUrl, options.email));
  const state = options.state ?? hexState();
  const verifier = options.pkce === true ? randomBytes(32).toString('base64url') : typeof options.pkce === 'string' ? options.pkce : undefined;
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: options.clientId ?? DEMO_CLIENT.clientId,
    redirect_uri: options.redirectUri ?? DEMO_CLIENT.redirectUri,
    state,
    scope: options.scope ?? `${options.clientId ?? DEMO_CLIENT.clientId} offline_access openid`,
  };
  if (verifier) {
    params.code_challenge = s256(verifier);
    params.code_challenge_method = 'S256';
  }
  const page = await fetch(initUrl(simUrl, params), { headers: { cookie }, redirect: 'manual' });
  if (page.status !== 200) throw new Error(`the consent page did not open: HTTP ${page.status} ${page.headers.get('location') ?? ''}`);
  const consent = parseQueryConsent(await page.text());
  const form = new URLSearchParams({ consent_id: consent.consentId, decision: options.decision ?? 'allow' });
  if (options.vehicle) form.append('vehicle', options.vehicle);
  for (const v of options.extraVehicles ?? []) form.append('vehicle', v);
  for (const c of options.categories ?? consent.categories.filter((b) => b.checked).map((b) => b.value)) form.append('category', c);
  const answer = await fetch(`${simUrl}${FCON.init}`, { method: 'POST', headers: { cookie }, body: form, redirect: 'manual' });
  const location = answer.headers.get('location');
  if (!location) return { status: answer.status, consent, html: await answer.text(), ...(verifier ? { verifier } : {}) };
  const redirect = new URL(location, simUrl);
  return {
    status: answer.status,
    redirect,
    code: redirect.searchParams.get('code') ?? undefined,
    state: redirect.searchParams.get('state') ?? undefined,
    error: redirect.searchParams.get('error') ?? undefined,
    consent,
    ...(verifier ? { verifier } : {}),
  };
}

export interface QueryTokenBody {
  access_token?: string;
  id_token?: string;
  token_type?: string;
  expires_in?: number;
  id_token_expires_in?: number;
  refresh_token?: string;
  scope?: string;
  error?: string;
  error_description?: string;
}

export interface QueryHttp<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** POSTs to the B2C token path, the secret in the form body (as Ford's collection does). */
export async function queryToken(
  simUrl: string,
  fields: Record<string, string>,
  options: { clientId?: string; clientSecret?: string; policy?: string | null } = {},
): Promise<QueryHttp<QueryTokenBody>> {
  const policy = options.policy === undefined ? FCON.policy : options.policy;
  const url = `${simUrl}${FCON.tokenPath}${policy === null ? '' : `?p=${encodeURIComponent(policy)}`}`;
  const body = new URLSearchParams({ client_id: options.clientId ?? DEMO_CLIENT.clientId, client_secret: options.clientSecret ?? DEMO_CLIENT.clientSecret, ...fields });
  const res = await fetch(url, { method: 'POST', body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as QueryTokenBody };
}

export function exchangeQueryCode(simUrl: string, code: string, extra: Record<string, string> = {}): Promise<QueryHttp<QueryTokenBody>> {
  return queryToken(simUrl, { grant_type: 'authorization_code', code, redirect_uri: DEMO_CLIENT.redirectUri, scope: `${DEMO_CLIENT.clientId} offline_access openid`, ...extra });
}

export function refreshQuery(simUrl: string, refreshToken: string, scope = `${DEMO_CLIENT.clientId} offline_access openid`): Promise<QueryHttp<QueryTokenBody>> {
  return queryToken(simUrl, { grant_type: 'refresh_token', refresh_token: refreshToken, scope });
}

/** The whole flow for one vehicle: consent, code, token (which must succeed). */
export async function queryConnect(simUrl: string, options: QueryAuthorizeOptions & { vehicle: string }): Promise<{ access_token: string; refresh_token: string; expires_in: number }> {
  const auth = await queryAuthorize(simUrl, options);
  if (!auth.code) throw new Error(`no code: ${auth.error ?? auth.status}`);
  const res = await exchangeQueryCode(simUrl, auth.code, auth.verifier ? { code_verifier: auth.verifier } : {});
  const { access_token, refresh_token, expires_in } = res.body;
  if (res.status !== 200 || !access_token || !refresh_token || expires_in === undefined) throw new Error(`code exchange failed: HTTP ${res.status} ${res.body.error ?? ''}`);
  return { access_token, refresh_token, expires_in };
}

/**
 * A Query token without the browser steps, for API tests not about OAuth:
 * the same grant and token records the consent creates.
 */
export function mintQueryToken(sim: RunningSimulator, vehicleId: string, categories: string[] = ALL_CATEGORIES, options: { ownerId?: string; lifetimeSeconds?: number } = {}): { token: string; grantId: string } {
  const { world } = sim;
  const grant = createQueryGrant(world.store, options.ownerId ?? 'owner-1', world.options.demoClient.id, vehicleId, categories);
  const record = world.store.issueAccessToken(grant, grant.scopes, options.lifetimeSeconds);
  return { token: record.token, grantId: grant.id };
}

export interface QueryReply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

export async function queryGet<T = Record<string, unknown>>(simUrl: string, path: string, token?: string, method = 'GET'): Promise<QueryReply<T>> {
  const res = await fetch(`${simUrl}${FCON.api}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let json = {} as T;
  try {
    json = (text ? JSON.parse(text) : {}) as T;
  } catch {
    // HTML bodies (the injected 401) stay in `text`.
  }
  return { status: res.status, headers: res.headers, text, json };
}
