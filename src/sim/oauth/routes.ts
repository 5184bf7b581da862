import { Router } from 'express';
import OAuth2Server from '@node-oauth/oauth2-server';
import type { World } from '../world';
import { authorizeRouter } from './authorize';
import { ConsentRequests } from './consent-requests';
import { fconAuthorizeRouter } from './fcon-authorize';
import { fconTokenRouter } from './fcon-token';
import { introspectionRouter } from './introspection';
import { metadataRouter } from './metadata';
import { createModel, libraryClient } from './model';
import { revocationRouter } from './revocation';
import { TokenFamilies } from './token-families';
import { tokenRouter } from './token-endpoint';

/**
 * The authorization server: metadata, authorize + consent, token (also at
 * Ford's tenant path), FordConnect Query's auth/init and B2C token endpoint,
 * revocation and introspection. The flows themselves
 * (codes, PKCE, refresh, client credentials) run in @node-oauth/oauth2-server.
 */
export function oauthRouter(world: World): Router {
  const model = createModel(world, new TokenFamilies(world.store));
  const tokenServer = new OAuth2Server({ model });
  // At the authorize step the client is only named, not authenticated (RFC 6749 4.1.1).
  const authorizeServer = new OAuth2Server({
    model: {
      ...model,
      async getClient(clientId: string) {
        const client = world.store.clients.get(clientId);
        return client ? libraryClient(client) : false;
      },
    },
  });

  const router = Router();
  router.use(metadataRouter());
  router.use(authorizeRouter(world, authorizeServer, new ConsentRequests()));
  // FordConnect Query's own authorize and token steps over the same store and model;
  // its B2C token path must come before the catalogue's generic /:tenant/… one.
  router.use(fconAuthorizeRouter(world, authorizeServer, new ConsentRequests()));
  router.use(fconTokenRouter(world, tokenServer));
  router.use(tokenRouter(world, tokenServer));
  router.use(revocationRouter(world));
  router.use(introspectionRouter(world));
  return router;
}
