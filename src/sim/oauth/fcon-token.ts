import { createHmac, randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type OAuth2Server from '@node-oauth/oauth2-server';
import type { World } from '../world';
import { clientCredentials } from './client-auth';
import { FCON_POLICY } from './fcon-categories';
import { methodNotAllowed, sendOAuthError } from './oauth-errors';
import { opaqueToken, type BearerMinter } from './store';
import { tokenHandler } from './token-endpoint';

/**
 * FordConnect Query's token endpoint, on Ford's B2C path with the policy in
 * `?p=` (ford-api.md). The whole pipeline (client authentication, codes,
 * PKCE when a challenge was sent, rotation, reuse detection, audit) is the
 * catalogue server's; only the policy check, the API its codes belong to and
 * the answer's shape are this endpoint's own.
 */

export const FCON_TENANT = 'dah2vb2cprod.onmicrosoft.com';
export const FCON_TOKEN_PATH = `/${FCON_TENANT}/oauth2/v2.0/token`;

export const FCON_TOKEN_COUNTS = {
  /** `fcon.token.authorization_code`, `fcon.token.refresh_token`, `fcon.token.other`. */
  prefix: 'fcon.token',
  wrongPolicy: 'fcon.token.wrong-policy',
};

const keys = new WeakMap<World, Buffer>();

function signingKey(world: World): Buffer {
  let key = keys.get(world);
  if (!key) {
    key = randomBytes(32);
    keys.set(world, key);
  }
  return key;
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const seconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * B2C's id_token is a JWT; the simulator signs its own with a per-run key
 * (HS256: nobody but the simulator checks it, and it checks by lookup).
 * The random jti keeps every one unique, as bearer strings must be.
 */
function idTokenMinter(world: World, issuer: string): BearerMinter {
  return ({ grant, issuedAt, expiresAt, authTime }) => {
    const header = b64({ typ: 'JWT', alg: 'HS256', kid: 'ford-sim' });
    const payload = b64({
      ver: '1.0',
      iss: issuer,
      sub: grant.ownerId,
      aud: grant.clientId,
      exp: seconds(expiresAt),
      nbf: seconds(issuedAt),
      iat: seconds(issuedAt),
      auth_time: seconds(authTime),
      tfp: FCON_POLICY,
      jti: opaqueToken(16),
    });
    const signature = createHmac('sha256', signingKey(world)).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${signature}`;
  };
}

/** `scope=openid offline_access` without the client id: B2C answers with an id_token alone, and that is the bearer. */
function wantsIdTokenOnly(req: Request, body: Record<string, string>): boolean {
  if (body.scope === undefined) return false;
  const words = body.scope.split(/\s+/).filter(Boolean);
  const clientId = clientCredentials(req)?.clientId ?? body.client_id ?? '';
  return words.includes('openid') && !words.includes(clientId);
}

function policyOf(req: Request): string | undefined {
  const p = req.query.p;
  return typeof p === 'string' ? p : undefined;
}

export function fconTokenRouter(world: World, server: OAuth2Server): Router {
  const handle = tokenHandler(world, server, {
    grantTypes: ['authorization_code', 'refresh_token'],
    countPrefix: FCON_TOKEN_COUNTS.prefix,
    api: 'fcon-query',
    prepare(req, body) {
      if (!wantsIdTokenOnly(req, body)) {
        return {
          shape: (answer) => ({ access_token: answer.access_token, token_type: 'Bearer', expires_in: answer.expires_in, refresh_token: answer.refresh_token }),
        };
      }
      const issuer = `${req.protocol}://${req.get('host')}/${FCON_TENANT}/v2.0/`;
      return {
        mintBearer: idTokenMinter(world, issuer),
        // No access_token: the id_token is what the app sends as its bearer. The refresh
        // token still comes back (offline_access), or rotation would strand the app.
        shape: (answer) => ({
          id_token: answer.access_token,
          token_type: 'Bearer',
          not_before: seconds(world.clock.now()),
          id_token_expires_in: answer.expires_in,
          refresh_token: answer.refresh_token,
          refresh_token_expires_in: answer.refresh_token_expires_in,
        }),
      };
    },
  });

  const router = Router();
  router.post(FCON_TOKEN_PATH, (req: Request, res: Response) => {
    // B2C names the user flow in `?p=`; another policy is another flow, which this app has none of.
    if (policyOf(req)?.toUpperCase() !== FCON_POLICY) {
      world.counts.increment(FCON_TOKEN_COUNTS.wrongPolicy);
      return sendOAuthError(res, 400, 'invalid_request', `Invalid request: this token endpoint needs the policy ?p=${FCON_POLICY}`);
    }
    return handle(req, res, () => undefined);
  });
  router.all(FCON_TOKEN_PATH, methodNotAllowed('POST'));
  return router;
}
