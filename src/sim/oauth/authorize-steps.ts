import type { Request, Response } from 'express';
import type OAuth2Server from '@node-oauth/oauth2-server';
import { loginUrl } from '../owner/login';
import type { World } from '../world';
import type { ConsentRequests, PendingConsent } from './consent-requests';
import { consentResponses, type ConsentBase } from './consent-responses';
import { recordGrant } from './grant-events';
import { issueCode } from './issue-code';
import type { Grant, OAuthStore, SimClient } from './store';

/**
 * The steps both authorize endpoints take alike: the catalogue's
 * `/oauth2/v2.0/authorize` (FordConnect v1, authorize-request.ts and
 * authorize.ts) and FordConnect Query's `auth/init` (fcon-authorize.ts).
 * What Ford's Query dialect does differently (a state of at most 16 hex
 * characters refused with a page, PKCE optional, the scope kept only for the
 * record, exactly one vehicle per consent) stays in each surface's own file;
 * only the steps that are the same, to the word, are here.
 */

// ---- The request (GET): RFC 6749 4.1.1 + RFC 7636 ----

export type PageAnswer = { kind: 'page'; title: string; message: string };
export type RedirectAnswer = { kind: 'redirect'; location: string };
/** A refusal on our own site (client or redirect not known good), one sent back to the app, or a request to show. */
export type RequestCheck<R> = PageAnswer | RedirectAnswer | { kind: 'ok'; request: R };

/** What every checked request keeps for its consent page; each surface may add its own. */
export interface CheckedRequest {
  client: SimClient;
  redirectUri: string;
  state: string;
  /** Empty when no PKCE challenge was sent (FordConnect Query only). */
  codeChallenge: string;
  codeChallengeMethod: string;
  rawScope: string;
}

/** A parameter's one value: undefined when absent, null when sent more than once. */
export type ParamReader = (name: string) => string | undefined | null;

export function paramReader(query: Record<string, unknown>): ParamReader {
  return (name) => {
    const value = query[name];
    if (value === undefined) return undefined;
    return typeof value === 'string' ? value : null; // null: sent more than once
  };
}

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

/** An OAuth error sent back to a redirect URI already known good, with the state when there is one. */
export type Fail = (error: string, description: string) => RedirectAnswer;

export function failTo(redirectUri: string, state: string | undefined): Fail {
  return (error, description) => ({ kind: 'redirect', location: errorRedirect(redirectUri, error, description, state) });
}

/** How a surface says that client_id or redirect_uri is missing, or (client_id) repeated: each keeps its own words. */
export interface MissingParamWords {
  noClient: string;
  repeatedClient: string;
  noRedirect: string;
}

/**
 * Client and redirect URI come first: until both are known good, the only
 * safe answer is a page on our own site (RFC 6749 4.1.2.1), never a redirect
 * to an address we cannot vouch for.
 */
export function checkClientAndRedirect(
  store: OAuthStore,
  one: ParamReader,
  words: MissingParamWords,
): PageAnswer | { kind: 'ok'; client: SimClient; redirectUri: string } {
  const clientId = one('client_id');
  if (!clientId) return { kind: 'page', title: 'Unknown app', message: clientId === null ? words.repeatedClient : words.noClient };
  const client = store.clients.get(clientId);
  if (!client) return { kind: 'page', title: 'Unknown app', message: 'No app is registered with this client_id. Check the app\'s settings.' };

  const redirectUri = one('redirect_uri');
  // Exact string match (RFC 9700 2.1): no prefix, no normalisation, no default.
  if (typeof redirectUri !== 'string' || !client.redirectUris.includes(redirectUri)) {
    return {
      kind: 'page',
      title: 'Wrong redirect address',
      message: redirectUri ? `This app did not register the redirect address it asked for. Registered: ${client.redirectUris.join(', ') || 'none'}.` : words.noRedirect,
    };
  }
  return { kind: 'ok', client, redirectUri };
}

/** Every parameter at most once, a client allowed the code grant, and `response_type=code`. */
export function checkCodeRequest(query: Record<string, unknown>, one: ParamReader, client: SimClient, fail: Fail): RedirectAnswer | undefined {
  for (const name of Object.keys(query)) {
    if (one(name) === null) return fail('invalid_request', `Invalid request: parameter \`${name}\` must appear once`);
  }
  if (!client.grants.includes('authorization_code')) return fail('unauthorized_client', 'Unauthorized client: this app may not use the authorization code grant');
  const responseType = one('response_type');
  if (!responseType) return fail('invalid_request', 'Missing parameter: `response_type`');
  if (responseType !== 'code') return fail('unsupported_response_type', 'Unsupported response type: only `code` is supported');
  return undefined;
}

/** A challenge that was sent: S256 only, and well-formed. Whether one must be sent is each surface's own rule. */
export function checkS256Challenge(challenge: string, method: string, fail: Fail): RedirectAnswer | undefined {
  if (method !== 'S256') return fail('invalid_request', `Invalid request: \`code_challenge_method\` "${method}" is not allowed; use "S256"`);
  if (!CHALLENGE.test(challenge)) return fail('invalid_request', 'Invalid parameter: `code_challenge`');
  return undefined;
}

// ---- The owner's answer (POST) ----

/** A form field's values: one, several (repeated checkboxes), or none. */
export function formValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * SameSite=Lax still lets another port on the same host post this form;
 * browsers send Origin on every POST, so it must be ours when present.
 */
export function sameOrigin(req: Request): boolean {
  const origin = req.get('origin');
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}

/** A consent answer that passed the common checks: the form, the signed-in owner, the request the page was shown for. */
export interface ConsentAnswer {
  body: Record<string, unknown>;
  ownerId: string;
  consent: PendingConsent;
}

/**
 * The consent steps of one authorize surface, over its own pending requests
 * and pages (drawn by `render`): from a checked request to the consent shown,
 * and from the owner's answer to the code sent back. The surface decides what
 * is offered and what a valid choice is.
 */
export function consentSteps<Extra>(world: World, server: OAuth2Server, consents: ConsentRequests, render: (view: ConsentBase & Extra) => string) {
  const { store } = world;
  const { sendPage, showConsent } = consentResponses<Extra>(world, render);

  /** GET: answers a refused request, sends a signed-out owner to sign in (and back); otherwise the owner and the request. */
  const signedInFor = <R>(req: Request, res: Response, check: RequestCheck<R>): { ownerId: string; request: R } | undefined => {
    if (check.kind === 'page') return void sendPage(res, 400, check.title, check.message);
    if (check.kind === 'redirect') return void res.redirect(302, check.location);
    const ownerId = world.sessions.ownerId(req);
    if (!ownerId || !store.owners.has(ownerId)) return void res.redirect(302, loginUrl(req));
    return { ownerId, request: check.request };
  };

  /** The pending request the consent page is drawn for; `scopes` are the catalogue scopes it offers. */
  const createConsent = (ownerId: string, request: CheckedRequest, scopes: string[]): PendingConsent =>
    consents.create({
      ownerId,
      clientId: request.client.id,
      redirectUri: request.redirectUri,
      state: request.state,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: request.codeChallengeMethod,
      scopes,
      rawScope: request.rawScope,
    });

  /** POST: a form from our own page, a signed-in owner, and the live request shown to that owner; else a page is sent. */
  const openAnswer = (req: Request, res: Response): ConsentAnswer | undefined => {
    if (!sameOrigin(req)) return void sendPage(res, 403, 'Refused', 'This form can only be sent from the simulator\'s own consent page.');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const ownerId = world.sessions.ownerId(req);
    if (!ownerId) return void sendPage(res, 400, 'Not signed in', 'Your sign-in ended before you answered. Go back to the app and connect again.');
    // Bound to the signed-in owner and to the request the page was shown for; nothing else in the form is trusted.
    const consent = typeof body.consent_id === 'string' ? consents.get(body.consent_id) : undefined;
    if (!consent || consent.ownerId !== ownerId) {
      return void sendPage(res, 400, 'Request expired', 'This consent request has expired or was already answered. Go back to the app and connect again.');
    }
    return { body, ownerId, consent };
  };

  /** Deny: the request is used up, audited (`detail`), and the app gets access_denied with its state. */
  const deny = (req: Request, res: Response, { ownerId, consent }: ConsentAnswer, detail: string): void => {
    consents.take(consent.id);
    world.audit.record({ ownerId, clientId: consent.clientId, action: 'auth.grant', outcome: 'denied', detail, ip: req.ip });
    res.redirect(303, errorRedirect(consent.redirectUri, 'access_denied', 'The owner denied access', consent.state));
  };

  /**
   * Allow, once the surface has judged the choices: uses the request up,
   * creates the surface's grant, has the library issue the code for it
   * (fed only with what was stored when the page was shown), records the
   * grant (`how`, for the audit line) and sends the owner back to the app.
   */
  const allow = async (req: Request, res: Response, { consent }: ConsentAnswer, createGrant: (client: SimClient) => Grant, how: string): Promise<void> => {
    if (!consents.take(consent.id)) return sendPage(res, 400, 'Request expired', 'This consent request was already answered.');
    const client = store.clients.get(consent.clientId);
    if (!client) return sendPage(res, 400, 'Unknown app', 'This app is no longer registered.');
    const grant = createGrant(client);
    const issued = await issueCode(world, server, {
      grant,
      client,
      redirectUri: consent.redirectUri,
      state: consent.state,
      scopes: grant.scopes,
      // Empty when the request sent no challenge (FordConnect Query): the code is then issued without PKCE.
      codeChallenge: consent.codeChallenge,
      codeChallengeMethod: consent.codeChallengeMethod,
    });
    if (!issued.ok) {
      if (issued.location) return res.redirect(303, issued.location);
      return sendPage(res, 500, 'Something went wrong', 'The simulator could not finish the authorization.');
    }
    recordGrant(world, { grant, created: true, addedScopes: [...grant.scopes] }, how, req.ip);
    res.redirect(303, issued.location);
  };

  return { sendPage, showConsent, signedInFor, createConsent, openAnswer, deny, allow };
}
