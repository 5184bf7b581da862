import { Router, type Request, type Response } from 'express';
import type OAuth2Server from '@node-oauth/oauth2-server';
import type { World } from '../world';
import { checkClientAndRedirect, checkCodeRequest, checkS256Challenge, consentSteps, failTo, formValues, paramReader, type CheckedRequest, type MissingParamWords, type RequestCheck } from './authorize-steps';
import type { ConsentRequests } from './consent-requests';
import { createQueryGrant, FCON_CATEGORY_NAMES } from './fcon-categories';
import { FCON_INIT_PATH, fconConsentPage, type FconConsentView } from './fcon-consent-page';
import { methodNotAllowed } from './oauth-errors';
import type { SimClient } from './store';

/**
 * FordConnect Query's authorize step, `GET /fcon-public/v1/auth/init`: the
 * owner signs in (the simulator's one owner session), picks exactly one
 * vehicle and the data categories, and goes back with a code. PKCE is
 * accepted but not required, as at Ford; Ford's login proxy refuses a state
 * longer than 16 characters or outside [0-9a-f], with a page of its own.
 * The steps the catalogue authorize endpoint shares are in authorize-steps.ts.
 */

export const FCON_COUNTS = {
  init: 'fcon.auth.init',
  consent: 'fcon.auth.consent',
};

/** Ford's login proxy: 1 to 16 lowercase hex characters. */
const STATE = /^[0-9a-f]{1,16}$/;
const PRINTABLE = /^[\x20-\x7E]*$/;
/** This page does not tell a missing client_id or redirect_uri from a repeated one. */
const MISSING: MissingParamWords = {
  noClient: 'The request does not say which app is asking (client_id is missing or repeated).',
  repeatedClient: 'The request does not say which app is asking (client_id is missing or repeated).',
  noRedirect: 'The request does not say where to send you back (redirect_uri is missing or repeated).',
};

/** Client and redirect URI first (until both are good only a page is safe, RFC 6749 4.1.2.1), then the state the proxy insists on. */
function checkInit(world: World, query: Record<string, unknown>): RequestCheck<CheckedRequest> {
  const one = paramReader(query);
  const known = checkClientAndRedirect(world.store, one, MISSING);
  if (known.kind !== 'ok') return known;
  const { client, redirectUri } = known;

  // Unlike the catalogue endpoint, a state outside Ford's proxy's rule is refused with a page, before anything goes back to the app.
  const state = one('state');
  if (typeof state !== 'string' || !STATE.test(state)) {
    return {
      kind: 'page',
      title: 'Request refused',
      message: 'The sign-in service accepts a state of 1 to 16 lowercase hexadecimal characters (0-9, a-f) only; this request sent none, or another kind.',
    };
  }
  const fail = failTo(redirectUri, state);
  const refused = checkCodeRequest(query, one, client, fail);
  if (refused) return refused;

  // PKCE is optional here; a challenge that is sent is checked as the catalogue endpoint checks it.
  const challenge = one('code_challenge') ?? '';
  const method = one('code_challenge_method') ?? '';
  if (challenge || method) {
    if (!challenge) return fail('invalid_request', 'Invalid request: `code_challenge_method` without `code_challenge`');
    const badChallenge = checkS256Challenge(challenge, method, fail);
    if (badChallenge) return badChallenge;
  }
  // The owner's ticks decide what is shared; the scope asked for (Ford's collection sends
  // `<client id> offline_access openid`) is kept for the record and grants nothing by itself.
  const rawScope = one('scope') ?? '';
  if (!PRINTABLE.test(rawScope)) return fail('invalid_scope', 'Invalid parameter: `scope`');
  return { kind: 'ok', request: { client, redirectUri, state, codeChallenge: challenge, codeChallengeMethod: challenge ? 'S256' : '', rawScope } };
}

export function fconAuthorizeRouter(world: World, server: OAuth2Server, consents: ConsentRequests): Router {
  const router = Router();
  const steps = consentSteps<Pick<FconConsentView, 'chosen' | 'error'>>(world, server, consents, fconConsentPage);
  const { showConsent } = steps;

  router.get(FCON_INIT_PATH, (req, res) => {
    world.counts.increment(FCON_COUNTS.init);
    const checked = steps.signedInFor(req, res, checkInit(world, req.query as Record<string, unknown>));
    if (!checked) return;
    // No catalogue scopes: the page offers data categories instead.
    showConsent(res, 200, steps.createConsent(checked.ownerId, checked.request, []));
  });

  router.post(FCON_INIT_PATH, async (req: Request, res: Response) => {
    world.counts.increment(FCON_COUNTS.consent);
    const answer = steps.openAnswer(req, res);
    if (!answer) return;
    const { body, ownerId, consent } = answer;
    if (body.decision === 'deny') return steps.deny(req, res, answer, 'The owner denied access on the FordConnect Query consent page');

    // Only categories the page offers, and only the owner's own vehicles: extra values in the form are dropped.
    const wanted = formValues(body.category);
    const categories = FCON_CATEGORY_NAMES.filter((c) => wanted.includes(c));
    const sent = formValues(body.vehicle);
    const owned = world.fleet.ownedBy(ownerId).map((v) => v.id);
    const vehicles = [...new Set(sent.filter((id) => owned.includes(id)))];
    const chosen = { categories, ...(vehicles.length === 1 ? { vehicle: vehicles[0] } : {}) };
    if (body.decision !== 'allow') return showConsent(res, 400, consent, { chosen, error: 'Choose Allow or Deny.' });
    // One vehicle per consent, as at Ford.
    if (vehicles.length !== 1) return showConsent(res, 400, consent, { chosen, error: 'Pick exactly one vehicle to share, or choose Deny.' });
    if (categories.length === 0) return showConsent(res, 400, consent, { chosen, error: 'Tick at least one kind of data to share, or choose Deny.' });

    // A grant of its own, as every consent is; auth_time is the sign-in behind this session (RFC 9470).
    const createGrant = (client: SimClient) => createQueryGrant(world.store, ownerId, client.id, vehicles[0], categories, world.sessions.authTime(req));
    await steps.allow(req, res, answer, createGrant, `FordConnect Query consent: ${categories.join(', ')}`);
  });

  router.all(FCON_INIT_PATH, methodNotAllowed('GET, POST'));
  return router;
}
