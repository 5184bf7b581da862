import { Router, type Request, type Response } from 'express';
import OAuth2Server from '@node-oauth/oauth2-server';
import { loginUrl } from '../owner/login';
import type { World } from '../world';
import { checkAuthorizeRequest, errorRedirect } from './authorize-request';
import { consentPage, type ConsentView } from './consent-page';
import { consentResponses, pageHeaders } from './consent-responses';
import type { ConsentRequests } from './consent-requests';
import { recordGrant } from './grant-events';
import { issueCode } from './issue-code';
import { methodNotAllowed } from './oauth-errors';

export const AUTHORIZE_PATH = '/oauth2/v2.0/authorize';

export { pageHeaders };

function list(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * GET shows the consent page for a checked request; POST takes the owner's
 * answer. The code itself is issued by the library's authorize handler,
 * fed only with what was stored when the page was shown.
 */
export function authorizeRouter(world: World, server: OAuth2Server, consents: ConsentRequests): Router {
  const router = Router();
  const { store } = world;

  const { sendPage, showConsent } = consentResponses<Pick<ConsentView, 'ticked' | 'error'>>(world, consentPage);

  router.get(AUTHORIZE_PATH, (req, res) => {
    world.counts.increment('oauth.authorize');
    const check = checkAuthorizeRequest(store, req.query as Record<string, unknown>);
    if (check.kind === 'page') return sendPage(res, 400, check.title, check.message);
    if (check.kind === 'redirect') return res.redirect(302, check.location);
    const ownerId = world.sessions.ownerId(req);
    if (!ownerId || !store.owners.has(ownerId)) return res.redirect(302, loginUrl(req));
    const { request } = check;
    // max_age: a sign-in older than the app asks for is renewed first. The way back drops
    // max_age (so max_age=0 cannot loop); the API still judges the token's own auth_time.
    const authTime = world.sessions.authTime(req);
    if (request.maxAge !== undefined && (authTime === undefined || world.clock.now() - authTime > request.maxAge * 1000)) {
      const back = new URL(req.originalUrl, 'http://sim.invalid');
      back.searchParams.delete('max_age');
      return res.redirect(302, `/owner/login?next=${encodeURIComponent(back.pathname + back.search)}`);
    }
    const consent = consents.create({
      ownerId,
      clientId: request.client.id,
      redirectUri: request.redirectUri,
      state: request.state,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: request.codeChallengeMethod,
      scopes: request.scopes,
      rawScope: request.rawScope,
    });
    showConsent(res, 200, consent);
  });

  router.post(AUTHORIZE_PATH, async (req: Request, res: Response) => {
    world.counts.increment('oauth.consent');
    if (!sameOrigin(req)) return sendPage(res, 403, 'Refused', 'This form can only be sent from the simulator\'s own consent page.');
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
      world.audit.record({ ownerId, clientId: consent.clientId, action: 'auth.grant', outcome: 'denied', detail: 'The owner denied access on the consent page', ip: req.ip });
      return res.redirect(303, errorRedirect(consent.redirectUri, 'access_denied', 'The owner denied access', consent.state));
    }

    const wantedScopes = list(body.scope);
    const wantedVehicles = list(body.vehicle);
    // Only what was asked for, and only the owner's own vehicles: extra values in the form are dropped.
    const scopes = consent.scopes.filter((s) => wantedScopes.includes(s));
    const vehicleIds = world.fleet
      .ownedBy(ownerId)
      .map((v) => v.id)
      .filter((id) => wantedVehicles.includes(id));
    const ticked = { scopes, vehicles: vehicleIds };
    if (body.decision !== 'allow') return showConsent(res, 400, consent, { ticked, error: 'Choose Allow or Deny.' });
    // An Allow with nothing ticked is most likely a slip: ask again rather than end the flow.
    if (scopes.length === 0) return showConsent(res, 400, consent, { ticked, error: 'Tick at least one right to allow, or choose Deny.' });
    if (vehicleIds.length === 0) return showConsent(res, 400, consent, { ticked, error: 'Tick at least one vehicle to share, or choose Deny.' });
    if (!consents.take(consent.id)) return sendPage(res, 400, 'Request expired', 'This consent request was already answered.');

    const client = store.clients.get(consent.clientId);
    if (!client) return sendPage(res, 400, 'Unknown app', 'This app is no longer registered.');
    // Every consent is an authorization of its own (a second car, a second Node-RED account):
    // it never changes an earlier one of the same app, nor the tokens issued under it.
    // auth_time is the sign-in of the session that answered, not this click (RFC 9470).
    const grant = store.createGrant(ownerId, client.id, scopes, vehicleIds, 'authorization_code', world.sessions.authTime(req));

    const issued = await issueCode(world, server, {
      grant,
      client,
      redirectUri: consent.redirectUri,
      state: consent.state,
      scopes,
      codeChallenge: consent.codeChallenge,
      codeChallengeMethod: consent.codeChallengeMethod,
    });
    if (!issued.ok) {
      if (issued.location) return res.redirect(303, issued.location);
      return sendPage(res, 500, 'Something went wrong', 'The simulator could not finish the authorization.');
    }
    recordGrant(world, { grant, created: true, addedScopes: [...scopes] }, 'consent', req.ip);
    res.redirect(303, issued.location);
  });

  router.all(AUTHORIZE_PATH, methodNotAllowed('GET, POST'));
  return router;
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
