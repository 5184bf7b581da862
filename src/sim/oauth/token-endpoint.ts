import { Router, type Request, type RequestHandler, type Response } from 'express';
import OAuth2Server from '@node-oauth/oauth2-server';
import type { World } from '../world';
import { authenticClient, CLIENT_CHALLENGE, clientCredentials } from './client-auth';
import { withTokenRequest, type TokenRequestContext } from './model';
import { formBody, fromLibraryError, methodNotAllowed, sendOAuthError } from './oauth-errors';
import { readRequestedScopes } from './requested-scopes';
import type { BearerMinter, Grant, RefreshTokenRecord } from './store';

export const TOKEN_PATH = '/oauth2/v2.0/token';
/** Ford's Azure B2C spelling: the tenant in the path and a `?p=` policy (accepted, ignored). */
export const TENANT_TOKEN_PATH = '/:tenant/oauth2/v2.0/token';

const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'];

/** What differs between the token endpoints sharing this pipeline: the catalogue server's and FordConnect Query's B2C one. */
export interface TokenEndpointProfile {
  /** Grant types served; any other is unsupported_grant_type. */
  grantTypes: readonly string[];
  /** Request counts go under `<prefix>.<grant type>` (or `.other`). */
  countPrefix: string;
  /** Whose codes and refresh tokens it redeems (TokenRequestContext.api). */
  api?: Grant['api'];
  /**
   * Per request, before the scope is normalised: how to mint the access
   * token's string and how to reshape the success body.
   */
  prepare?(req: Request, body: Record<string, string>): { mintBearer?: BearerMinter; shape?(body: Record<string, unknown>): Record<string, unknown> };
}

const CATALOGUE_PROFILE: TokenEndpointProfile = { grantTypes: GRANT_TYPES, countPrefix: 'oauth.token' };

/**
 * Ford-style clients send `scope=access` or `<client id> openid offline_access`
 * on refresh, meaning "what I have": that must not read as widening. Only
 * catalogue scopes remain, so a real narrowing still narrows; unknown words are
 * left for the library to refuse.
 */
function normaliseRefreshScope(body: Record<string, string>, clientId: string | undefined): void {
  if (body.scope === undefined) return;
  const reading = readRequestedScopes(body.scope, clientId ?? '');
  if (!reading.ok) return;
  if (reading.wantsEverything || reading.scopes.length === 0) delete body.scope;
  else body.scope = reading.scopes.join(' ');
}

/** The token pipeline (client authentication, codes, PKCE, rotation, reuse detection, audit) for one endpoint profile. */
export function tokenHandler(world: World, server: OAuth2Server, profile: TokenEndpointProfile = CATALOGUE_PROFILE): RequestHandler {
  const { store } = world;

  const audit = (token: RefreshTokenRecord, outcome: 'ok' | 'failed', detail: string, req: Request): void => {
    world.audit.record({ ownerId: token.ownerId, clientId: token.clientId, action: 'token.refresh', outcome, detail, ip: req.ip });
  };

  /**
   * Two refusals the library gets wrong for us, answered once the client has
   * authenticated (otherwise the library answers invalid_client, as it should):
   * it knows the password grant, so it would say unauthorized_client where a
   * server without that grant says unsupported_grant_type; and it rotates a
   * refresh token before checking the scope, so a refused widening would burn
   * the token and make the client's next, honest refresh look like a replay.
   */
  const preflight = (body: Record<string, string>, req: Request): { error: string; description: string } | undefined => {
    const credentials = clientCredentials(req);
    const client = credentials && authenticClient(store, credentials.clientId, credentials.secret);
    if (!client || body.grant_type === undefined) return undefined;
    if (!profile.grantTypes.includes(body.grant_type)) return { error: 'unsupported_grant_type', description: 'Unsupported grant type: `grant_type` is invalid' };
    if (body.grant_type !== 'refresh_token' || body.scope === undefined) return undefined;
    const token = store.refreshTokens.get(body.refresh_token ?? '');
    if (!token || token.clientId !== client.id || token.revoked || token.rotatedAt !== undefined) return undefined;
    const wider = body.scope.split(/\s+/).filter((s) => s && !token.scopes.includes(s));
    return wider.length > 0 ? { error: 'invalid_scope', description: 'Invalid scope: Unable to add extra scopes' } : undefined;
  };

  const handle = async (req: Request, res: Response): Promise<void> => {
    const rawType = (req.body as Record<string, unknown> | undefined)?.grant_type;
    world.counts.increment(`${profile.countPrefix}.${typeof rawType === 'string' && profile.grantTypes.includes(rawType) ? rawType : 'other'}`);
    const body = formBody(req, res);
    if (!body) return;
    const grantType = body.grant_type;
    const prepared = profile.prepare?.(req, body) ?? {};
    if (grantType === 'refresh_token') normaliseRefreshScope(body, clientCredentials(req)?.clientId ?? body.client_id);
    // Looked up before the call: after it, a rotated or revoked record still names owner and app for the audit.
    const presented = grantType === 'refresh_token' && body.refresh_token ? store.refreshTokens.get(body.refresh_token) : undefined;
    const refusal = preflight(body, req);
    if (refusal) {
      if (presented) audit(presented, 'failed', `Refresh refused: ${refusal.description}`, req);
      return sendOAuthError(res, 400, refusal.error, refusal.description);
    }

    const request = new OAuth2Server.Request({
      method: 'POST',
      headers: req.headers as Record<string, string>,
      query: req.query as Record<string, string>,
      body,
    });
    const response = new OAuth2Server.Response();
    const context: TokenRequestContext = { api: profile.api, mintBearer: prepared.mintBearer };
    // Only the app a refresh token belongs to writes to its owner's audit log; another app presenting it learns nothing either.
    const ownToken = (): RefreshTokenRecord | undefined => (presented && presented.clientId === context.clientId ? presented : undefined);
    try {
      await withTokenRequest(context, () =>
        server.token(request, response, {
          accessTokenLifetime: store.lifetimes.accessTokenSeconds,
          refreshTokenLifetime: store.lifetimes.refreshTokenSeconds,
          allowExtendedTokenAttributes: true,
          alwaysIssueNewRefreshToken: true,
          requireClientAuthentication: {},
        }),
      );
      const refreshed = ownToken();
      if (refreshed) audit(refreshed, 'ok', 'Access token refreshed; the refresh token was rotated', req);
      res.set('Cache-Control', 'no-store');
      res.set('Pragma', 'no-cache');
      const answer = response.body as Record<string, unknown>;
      res.status(200).json(prepared.shape ? prepared.shape(answer) : answer);
    } catch (err) {
      const failure = fromLibraryError(err);
      const refused = ownToken();
      if (refused && failure.error !== 'invalid_client') audit(refused, 'failed', `Refresh refused: ${failure.description}`, req);
      if (failure.status === 401) res.set('WWW-Authenticate', CLIENT_CHALLENGE);
      sendOAuthError(res, failure.status, failure.error, failure.description);
    }
  };

  return handle;
}

export function tokenRouter(world: World, server: OAuth2Server): Router {
  const router = Router();
  const handle = tokenHandler(world, server);
  for (const path of [TOKEN_PATH, TENANT_TOKEN_PATH]) {
    router.post(path, handle);
    router.all(path, methodNotAllowed('POST'));
  }
  return router;
}
