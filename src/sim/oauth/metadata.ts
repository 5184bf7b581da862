import { Router } from 'express';
import { allScopeNames, FORD_ACCESS_SCOPE, OIDC_SCOPES } from './scopes';
import { AUTHORIZE_PATH } from './authorize';
import { INTROSPECT_PATH } from './introspection';
import { REVOKE_PATH } from './revocation';
import { TOKEN_PATH } from './token-endpoint';
import { FCON_INIT_PATH } from './fcon-consent-page';
import { FCON_TOKEN_PATH } from './fcon-token';
import { FCON_POLICY, FCON_QUERY_BASE } from './fcon-categories';

export const METADATA_PATH = '/.well-known/oauth-authorization-server';

/** RFC 8414 metadata; the issuer is whatever address the caller reached us on. */
export function metadataRouter(): Router {
  const router = Router();
  router.get(METADATA_PATH, (req, res) => {
    const issuer = `${req.protocol}://${req.get('host')}`;
    const authMethods = ['client_secret_post', 'client_secret_basic'];
    res.set('Cache-Control', 'no-store');
    res.json({
      issuer,
      authorization_endpoint: `${issuer}${AUTHORIZE_PATH}`,
      token_endpoint: `${issuer}${TOKEN_PATH}`,
      revocation_endpoint: `${issuer}${REVOKE_PATH}`,
      introspection_endpoint: `${issuer}${INTROSPECT_PATH}`,
      scopes_supported: [...allScopeNames(), FORD_ACCESS_SCOPE, ...OIDC_SCOPES],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: authMethods,
      revocation_endpoint_auth_methods_supported: authMethods,
      introspection_endpoint_auth_methods_supported: authMethods,
      // Not RFC 8414 names: FordConnect Query's own steps, at the paths Ford uses (ford-api.md).
      fcon_query_authorization_endpoint: `${issuer}${FCON_INIT_PATH}`,
      fcon_query_token_endpoint: `${issuer}${FCON_TOKEN_PATH}?p=${FCON_POLICY}`,
      fcon_query_api: `${issuer}${FCON_QUERY_BASE}`,
    });
  });
  return router;
}
