import OAuth2Server from '@node-oauth/oauth2-server';
import type { World } from '../world';
import type { SimUser } from './model';
import type { Grant, SimClient } from './store';

/**
 * The last step of every consent (the catalogue authorize page and
 * FordConnect Query's auth/init): the library issues the code for a grant
 * that already exists, fed only with what was stored when the page was shown.
 */
export interface CodeRequest {
  grant: Grant;
  client: SimClient;
  redirectUri: string;
  state: string;
  /** Library scopes for the code (the grant's own). */
  scopes: string[];
  /** PKCE: required by the catalogue authorize page, optional at FordConnect Query's. */
  codeChallenge?: string;
  codeChallengeMethod?: string;
}

export type CodeResult = { ok: true; location: string } | { ok: false; location?: string };

export async function issueCode(world: World, server: OAuth2Server, code: CodeRequest): Promise<CodeResult> {
  const { store } = world;
  const { grant, client } = code;
  const user: SimUser = { kind: 'consent', id: grant.ownerId, grantId: grant.id };
  const query: Record<string, string> = {
    client_id: client.id,
    redirect_uri: code.redirectUri,
    response_type: 'code',
    state: code.state,
    scope: code.scopes.join(' '),
  };
  if (code.codeChallenge) {
    query.code_challenge = code.codeChallenge;
    query.code_challenge_method = code.codeChallengeMethod ?? 'S256';
  }
  const request = new OAuth2Server.Request({ method: 'GET', headers: {}, body: {}, query });
  const response = new OAuth2Server.Response();
  try {
    await server.authorize(request, response, {
      authenticateHandler: { handle: () => user },
      authorizationCodeLifetime: store.lifetimes.authorizationCodeSeconds,
      allowEmptyState: false,
    });
  } catch (err) {
    // The authorization did not complete: the grant never existed for the owner (and any code saved for it is void).
    store.revokeGrant(grant.id, 'the authorization did not complete');
    store.grants.delete(grant.id);
    // The library redirects its errors to the (already verified) redirect URI.
    const location = response.get('location') as string | undefined;
    if (!location) console.error('ford-sim: authorize failed', err);
    return location ? { ok: false, location } : { ok: false };
  }
  return { ok: true, location: String(response.get('location')) };
}
