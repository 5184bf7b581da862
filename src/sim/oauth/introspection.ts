import { Router } from 'express';
import type { World } from '../world';
import { requireClient } from './client-auth';
import { formBody, methodNotAllowed, sendOAuthError } from './oauth-errors';
import type { AccessTokenRecord, RefreshTokenRecord, SimClient } from './store';

export const INTROSPECT_PATH = '/oauth2/v2.0/introspect';

/**
 * RFC 7662, for the app that holds the token: another client's token, an
 * unknown, expired (on the simulated clock), rotated or revoked one is just
 * `{ active: false }`. Looking does not count as the app reaching a vehicle,
 * so the grant's last access is left alone.
 */
export function introspectionRouter(world: World): Router {
  const router = Router();
  const { store, clock } = world;

  const live = (record: AccessTokenRecord | RefreshTokenRecord | undefined, client: SimClient): boolean => {
    if (!record || record.clientId !== client.id || record.revoked || record.expiresAt <= clock.now()) return false;
    const grant = store.grants.get(record.grantId);
    return grant !== undefined && grant.revokedAt === undefined;
  };

  const describe = (record: AccessTokenRecord | RefreshTokenRecord, tokenType: string) => ({
    active: true,
    scope: record.scopes.join(' '),
    client_id: record.clientId,
    token_type: tokenType,
    exp: Math.floor(record.expiresAt / 1000),
    iat: Math.floor(record.issuedAt / 1000),
    sub: record.ownerId,
    // RFC 9470 6.2: so a resource server can apply its own max age.
    auth_time: Math.floor(record.authTime / 1000),
  });

  router.post(INTROSPECT_PATH, (req, res) => {
    world.counts.increment('oauth.introspect');
    const body = formBody(req, res);
    if (!body) return;
    const client = requireClient(store, req, res);
    if (!client) return;
    if (!body.token) return sendOAuthError(res, 400, 'invalid_request', 'Missing parameter: `token`');

    const asAccess = () => {
      const record = store.accessTokens.get(body.token);
      return record && live(record, client) ? describe(record, 'Bearer') : undefined;
    };
    const asRefresh = () => {
      const record = store.refreshTokens.get(body.token);
      // A rotated refresh token can never be used again: inactive.
      return record && record.rotatedAt === undefined && live(record, client) ? describe(record, 'refresh_token') : undefined;
    };
    const answer = body.token_type_hint === 'refresh_token' ? (asRefresh() ?? asAccess()) : (asAccess() ?? asRefresh());
    res.set('Cache-Control', 'no-store');
    res.status(200).json(answer ?? { active: false });
  });

  router.all(INTROSPECT_PATH, methodNotAllowed('POST'));
  return router;
}
