import { Router } from 'express';
import type { World } from '../world';
import { requireClient } from './client-auth';
import { formBody, methodNotAllowed, sendOAuthError } from './oauth-errors';

export const REVOKE_PATH = '/oauth2/v2.0/revoke';

/**
 * RFC 7009. An app may revoke only its own tokens; anything else, unknown
 * tokens included, still answers 200 so the endpoint reveals nothing.
 * A refresh token stands for the whole grant: revoking it ends every token
 * under it (the app's "disconnect").
 */
export function revocationRouter(world: World): Router {
  const router = Router();
  const { store } = world;

  router.post(REVOKE_PATH, (req, res) => {
    world.counts.increment('oauth.revoke');
    const body = formBody(req, res);
    if (!body) return;
    const client = requireClient(store, req, res);
    if (!client) return;
    if (!body.token) return sendOAuthError(res, 400, 'invalid_request', 'Missing parameter: `token`');

    const revokeRefresh = (): boolean => {
      const record = store.refreshTokens.get(body.token);
      if (!record || record.clientId !== client.id) return false;
      const grant = store.grants.get(record.grantId);
      if (grant && grant.revokedAt === undefined) {
        store.revokeGrant(grant.id, 'revoked by the app');
        world.audit.record({ ownerId: grant.ownerId, clientId: client.id, action: 'auth.revoked', outcome: 'ok', detail: 'The app disconnected itself (token revocation); every token of this grant stopped working', ip: req.ip });
      }
      record.revoked = true;
      return true;
    };
    const revokeAccess = (): boolean => {
      const record = store.accessTokens.get(body.token);
      if (!record || record.clientId !== client.id) return false;
      if (!record.revoked) {
        record.revoked = true;
        world.audit.record({ ownerId: record.ownerId, clientId: client.id, action: 'auth.revoked', outcome: 'ok', detail: 'The app revoked one of its access tokens', ip: req.ip });
      }
      return true;
    };
    // The hint only sets the search order (RFC 7009 2.1); an unknown hint is ignored.
    const order = body.token_type_hint === 'refresh_token' ? [revokeRefresh, revokeAccess] : [revokeAccess, revokeRefresh];
    order.some((attempt) => attempt());

    res.set('Cache-Control', 'no-store');
    res.status(200).end();
  });

  router.all(REVOKE_PATH, methodNotAllowed('POST'));
  return router;
}
