import { Router, type Request, type Response } from 'express';
import type OAuth2Server from '@node-oauth/oauth2-server';
import { loginUrl } from '../owner/login';
import type { World } from '../world';
import { sameOrigin } from './authorize';
import { consentResponses } from './consent-responses';
import { errorRedirect } from './authorize-request';
import type { ConsentRequests } from './consent-requests';
import { createQueryGrant, FCON_CATEGORY_NAMES } from './fcon-categories';
import { FCON_INIT_PATH, fconConsentPage, type FconConsentView } from './fcon-consent-page';
import { recordGrant } from './grant-events';
import { issueCode } from './issue-code';
import { methodNotAllowed } from './oauth-errors';
import type { SimClient } from './store';

/**
 * FordConnect Query's authorize step, `GET /fcon-public/v1/auth/init`: the
 * owner signs in (the simulator's one owner session), picks exactly one
 * vehicle and the data categories, and goes back with a code. PKCE is
 * accepted but not required, as at Ford; Ford's login proxy refuses a state
 * longer than 16 characters or outside [0-9a-f], with a page of its own.
 */

export const FCON_COUNTS = {
  init: 'fcon.auth.init',
  consent: 'fcon.auth.consent',
};

const STATE = /^[0-9a-f]{1,16}$/;
/** RFC 7636 4.2: a S256 challenge is 43 base64url characters; the ABNF allows 43 to 128. */
const CHALLENGE = /^[A-Za-z0-9._~-]{43,128}$/;
const PRINTABLE = /^[\x20-\x7E]*$/;

interface InitRequest {
  client: SimClient;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  codeChallengeMethod: string;
  rawScope: string;
}

type InitCheck = { kind: 'page'; title: string; message: string } | { kind: 'redirect'; location: string } | { kind: 'ok'; request: InitRequest };

function list(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Client and redirect URI first (until both are good only a page is safe, RFC 6749 4.1.2.1), then the state the proxy insists on. */
function checkInit(world: World, query: Record<string, unknown>): InitCheck {
  const one = (name: string): string | undefined | null => {
    const value = query[name];
    if (value === undefined) return undefined;
    return typeof value === 'string' ? value : null;
  };
  const clientId = one('client_id');
  const client = clientId ? world.store.clients.get(clientId) : undefined;
  if (!client) {
    return { kind: 'page', title: 'Unknown app', message: clientId ? "No app is registered with this client_id. Check the app's settings." : 'The request does not say which app is asking (client_id is missing or repeated).' };
  }
  const redirectUri = one('redirect_uri');
  // Exact string match (RFC 9700 2.1), as the catalogue authorize endpoint does.
  if (typeof redirectUri !== 'string' || !client.redirectUris.includes(redirectUri)) {
    return {
      kind: 'page',
      title: 'Wrong redirect address',
      message: redirectUri
        ? `This app did not register the redirect address it asked for. Registered: ${client.redirectUris.join(', ') || 'none'}.`
        : 'The request does not say where to send you back (redirect_uri is missing or repeated).',
    };
  }
  const state = one('state');
  if (typeof state !== 'string' || !STATE.test(state)) {
    return {
      kind: 'page',
      title: 'Request refused',
      message: 'The sign-in service accepts a state of 1 to 16 lowercase hexadecimal characters (0-9, a-f) only; this request sent none, or another kind.',
    };
  }
  const fail = (error: string, description: string): InitCheck => ({ kind: 'redirect', location: errorRedirect(redirectUri, error, description, state) });
  for (const name of Object.keys(query)) {
    if (one(name) === null) return fail('invalid_request', `Invalid request: parameter \`${name}\` must appear once`);
  }
  if (!client.grants.includes('authorization_code')) return fail('unauthorized_client', 'Unauthorized client: this app may not use the authorization code grant');
  const responseType = one('response_type');
  if (!responseType) return fail('invalid_request', 'Missing parameter: `response_type`');
  if (responseType !== 'code') return fail('unsupported_response_type', 'Unsupported response type: only `code` is supported');

  const challenge = one('code_challenge') ?? '';
  const method = one('code_challenge_method') ?? '';
  if (challenge || method) {
    if (!challenge) return fail('invalid_request', 'Invalid request: `code_challenge_method` without `code_challenge`');
    if (method !== 'S256') return fail('invalid_request', `Invalid request: \`code_challenge_method\` "${method}" is not allowed; use "S256"`);
    if (!CHALLENGE.test(challenge)) return fail('invalid_request', 'Invalid parameter: `code_challenge`');
  }
  // The owner's ticks decide what is shared; the scope asked for (Ford's collection sends
  // `<client id> offline_access openid`) is kept for the record and grants nothing by itself.
  const rawScope = one('scope') ?? '';
  if (!PRINTABLE.test(rawScope)) return fail('invalid_scope', 'Invalid parameter: `scope`');
  return { kind: 'ok', request: { client, redirectUri, state, codeChallenge: challenge, codeChallengeMethod: challenge ? 'S256' : '', rawScope } };
}

export function fconAuthorizeRouter(world: World, server: OAuth2Server, consents: ConsentRequests): Router {
  const router = Router();
  const { store } = world;

  const { sendPage, showConsent } = consentResponses<Pick<FconConsentView, 'chosen' | 'error'>>(world, fconConsentPage);

  router.get(FCON_INIT_PATH, (req, res) => {
    world.counts.increment(FCON_COUNTS.init);
    const check = checkInit(world, req.query as Record<string, unknown>);
    if (check.kind === 'page') return sendPage(res, 400, check.title, check.message);
    if (check.kind === 'redirect') return res.redirect(302, check.location);
    const ownerId = world.sessions.ownerId(req);
    if (!ownerId || !store.owners.has(ownerId)) return res.redirect(302, loginUrl(req));
    const { request } = check;
    const consent = consents.create({
      ownerId,
      clientId: request.client.id,
      redirectUri: request.redirectUri,
      state: request.state,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: request.codeChallengeMethod,
      scopes: [],
      rawScope: request.rawScope,
    });
    showConsent(res, 200, consent);
  });

  router.post(FCON_INIT_PATH, async (req: Request, res: Response) => {
    world.counts.increment(FCON_COUNTS.consent);
    if (!sameOrigin(req)) return sendPage(res, 403, 'Refused', "This form can only be sent from the simulator's own consent page.");
    const body = (req.body ?? {}) as Record<string, unknown>;
    const ownerId = world.sessions.ownerId(req);
    if (!ownerId) return sendPage(res, 400, 'Not signed in', 'Your sign-in ended before you answered. Go back to the app and connect again.');
    // Bound to the signed-in owner and to the request the page was shown for; nothing else in the form is trusted.
    const consent = typeof body.consent_id === 'string' ? consents.get(body.consent_id) : undefined;
    if (!consent || consent.ownerId !== ownerId) {
      return sendPage(res, 400, 'Request expired', 'This consent request has expired or was already answered. Go back to the app and connect again.');
    }

    if (body.decision === 'deny') {
      consents.take(consent.id);
      world.audit.record({ ownerId, clientId: consent.clientId, action: 'auth.grant', outcome: 'denied', detail: 'The owner denied access on the FordConnect Query consent page', ip: req.ip });
      return res.redirect(303, errorRedirect(consent.redirectUri, 'access_denied', 'The owner denied access', consent.state));
    }

    // Only categories the page offers, and only the owner's own vehicles: extra values in the form are dropped.
    const wanted = list(body.category);
    const categories = FCON_CATEGORY_NAMES.filter((c) => wanted.includes(c));
    const sent = list(body.vehicle);
    const owned = world.fleet.ownedBy(ownerId).map((v) => v.id);
    const vehicles = [...new Set(sent.filter((id) => owned.includes(id)))];
    const chosen = { categories, ...(vehicles.length === 1 ? { vehicle: vehicles[0] } : {}) };
    if (body.decision !== 'allow') return showConsent(res, 400, consent, { chosen, error: 'Choose Allow or Deny.' });
    if (vehicles.length !== 1) return showConsent(res, 400, consent, { chosen, error: 'Pick exactly one vehicle to share, or choose Deny.' });
    if (categories.length === 0) return showConsent(res, 400, consent, { chosen, error: 'Tick at least one kind of data to share, or choose Deny.' });
    if (!consents.take(consent.id)) return sendPage(res, 400, 'Request expired', 'This consent request was already answered.');

    const client = store.clients.get(consent.clientId);
    if (!client) return sendPage(res, 400, 'Unknown app', 'This app is no longer registered.');
    // A grant of its own, as every consent is; auth_time is the sign-in behind this session (RFC 9470).
    const grant = createQueryGrant(store, ownerId, client.id, vehicles[0], categories, world.sessions.authTime(req));
    const issued = await issueCode(world, server, {
      grant,
      client,
      redirectUri: consent.redirectUri,
      state: consent.state,
      scopes: grant.scopes,
      ...(consent.codeChallenge ? { codeChallenge: consent.codeChallenge, codeChallengeMethod: consent.codeChallengeMethod } : {}),
    });
    if (!issued.ok) {
      if (issued.location) return res.redirect(303, issued.location);
      return sendPage(res, 500, 'Something went wrong', 'The simulator could not finish the authorization.');
    }
    recordGrant(world, { grant, created: true, addedScopes: [...grant.scopes] }, `FordConnect Query consent: ${categories.join(', ')}`, req.ip);
    res.redirect(303, issued.location);
  });

  router.all(FCON_INIT_PATH, methodNotAllowed('GET, POST'));
  return router;
}
