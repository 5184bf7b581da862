import { Router, type Request, type Response } from 'express';
import OAuth2Server from '@node-oauth/oauth2-server';
import type { World } from '../world';
import { checkAuthorizeRequest } from './authorize-request';
import { consentSteps, formValues } from './authorize-steps';
import { consentPage, type ConsentView } from './consent-page';
import { pageHeaders } from './consent-responses';
import type { ConsentRequests } from './consent-requests';
import { methodNotAllowed } from './oauth-errors';
import type { SimClient } from './store';

export const AUTHORIZE_PATH = '/oauth2/v2.0/authorize';

export { pageHeaders };

/**
 * GET shows the consent page for a checked request; POST takes the owner's
 * answer. The code itself is issued by the library's authorize handler,
 * fed only with what was stored when the page was shown.
 */
export function authorizeRouter(world: World, server: OAuth2Server, consents: ConsentRequests): Router {
  const router = Router();
  const { store } = world;

  const steps = consentSteps<Pick<ConsentView, 'ticked' | 'error'>>(world, server, consents, consentPage);
  const { showConsent } = steps;

  router.get(AUTHORIZE_PATH, (req, res) => {
    world.counts.increment('oauth.authorize');
    const checked = steps.signedInFor(req, res, checkAuthorizeRequest(store, req.query as Record<string, unknown>));
    if (!checked) return;
    const { ownerId, request } = checked;
    // max_age: a sign-in older than the app asks for is renewed first. The way back drops
    // max_age (so max_age=0 cannot loop); the API still judges the token's own auth_time.
    const authTime = world.sessions.authTime(req);
    if (request.maxAge !== undefined && (authTime === undefined || world.clock.now() - authTime > request.maxAge * 1000)) {
      const back = new URL(req.originalUrl, 'http://sim.invalid');
      back.searchParams.delete('max_age');
      return res.redirect(302, `/owner/login?next=${encodeURIComponent(back.pathname + back.search)}`);
    }
    showConsent(res, 200, steps.createConsent(ownerId, request, request.scopes));
  });

  router.post(AUTHORIZE_PATH, async (req: Request, res: Response) => {
    world.counts.increment('oauth.consent');
    const answer = steps.openAnswer(req, res);
    if (!answer) return;
    const { body, ownerId, consent } = answer;
    if (body.decision === 'deny') return steps.deny(req, res, answer, 'The owner denied access on the consent page');

    const wantedScopes = formValues(body.scope);
    const wantedVehicles = formValues(body.vehicle);
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

    // Every consent is an authorization of its own (a second car, a second Node-RED account):
    // it never changes an earlier one of the same app, nor the tokens issued under it.
    // auth_time is the sign-in of the session that answered, not this click (RFC 9470).
    const createGrant = (client: SimClient) => store.createGrant(ownerId, client.id, scopes, vehicleIds, 'authorization_code', world.sessions.authTime(req));
    await steps.allow(req, res, answer, createGrant, 'consent');
  });

  router.all(AUTHORIZE_PATH, methodNotAllowed('GET, POST'));
  return router;
}
