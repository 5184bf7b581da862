import { AsyncLocalStorage } from 'node:async_hooks';
import OAuth2Server from '@node-oauth/oauth2-server';
import type { SimClock } from '../clock';
import type { World } from '../world';
import { authenticClient } from './client-auth';
import { recordGrant } from './grant-events';
import { readRequestedScopes } from './requested-scopes';
import { opaqueToken, type AuthorizationCodeRecord, type BearerMinter, type Grant, type SimClient } from './store';
import type { TokenFamilies } from './token-families';

/**
 * The @node-oauth/oauth2-server model over OAuthStore. The store keeps the
 * truth on the simulated clock; the library compares expiries with the real
 * `new Date()`, so every expiry handed to it is translated here: already past
 * on the simulated clock becomes a real past Date, otherwise a real future one.
 */

type Model = OAuth2Server.AuthorizationCodeModel & OAuth2Server.RefreshTokenModel & OAuth2Server.ClientCredentialsModel;

/** Who a token is for, and where the library call came from (the library passes it through untouched). */
export type SimUser =
  | { kind: 'consent'; id: string; grantId: string }
  | { kind: 'code'; id: string; code: string; grantId: string }
  | { kind: 'refresh'; id: string; grantId: string; refreshToken: string }
  | { kind: 'fleet'; id: string }
  | { kind: 'bearer'; id: string; grantId: string };

/** One token request: filled in by the model as the library authenticates the client. */
export interface TokenRequestContext {
  /** The client the library authenticated; set before any code or refresh token is looked up. */
  clientId?: string;
  /**
   * The API whose token endpoint was called: FordConnect Query's B2C policy
   * (`fcon-query`) or the catalogue server (undefined). A code or refresh
   * token of the other one is unknown here, as it would be at Ford.
   */
  api?: Grant['api'];
  /** Builds the access token's string (FordConnect Query's id_token-only answer); default: random. */
  mintBearer?: BearerMinter;
}

const tokenRequests = new AsyncLocalStorage<TokenRequestContext>();

/**
 * Runs one token request so the model knows which client the library
 * authenticated: a code or refresh token of another client is then unknown
 * to it, before any replay handling can touch the real owner's grant.
 */
export function withTokenRequest<T>(context: TokenRequestContext, run: () => Promise<T>): Promise<T> {
  return tokenRequests.run(context, run);
}

/** The client authenticated for the token request under way; undefined outside one (nothing matches then). */
function requestingClient(): string | undefined {
  return tokenRequests.getStore()?.clientId;
}

/** Whether a grant belongs to the API whose token endpoint is being called. */
function requestingApi(grant: Grant | undefined): boolean {
  return grant !== undefined && grant.api === tokenRequests.getStore()?.api;
}

export function libraryDate(clock: SimClock, simExpiresAt: number): Date {
  const left = simExpiresAt - clock.now();
  // A second of slack either way so the library's own `< new Date()` check cannot flip on a tick.
  return new Date(Date.now() + (left > 0 ? Math.max(left, 1000) : -1000));
}

export function libraryClient(client: SimClient): OAuth2Server.Client {
  return { id: client.id, grants: [...client.grants], redirectUris: [...client.redirectUris] };
}

function asSimUser(user: OAuth2Server.User): SimUser {
  return user as SimUser;
}

export function createModel(world: World, families: TokenFamilies): Model {
  const { store, clock } = world;

  const unionScopes = (a: string[], b: string[]): string[] => [...new Set([...a, ...b])];

  /** Client credentials: the fleet owner's grant over all its vehicles; a new grant is announced like a consent. */
  const fleetGrant = (ownerId: string, clientId: string, scopes: string[]): Grant => {
    const existing = store.activeGrant(ownerId, clientId, 'client_credentials');
    // Union, so a narrower request does not take rights from tokens issued earlier under the same grant.
    const result = store.upsertGrant(
      ownerId,
      clientId,
      unionScopes(existing?.scopes ?? [], scopes),
      world.fleet.ownedBy(ownerId).map((v) => v.id),
    );
    if (result.created || result.addedScopes.length > 0) recordGrant(world, result, 'client credentials');
    return result.grant;
  };

  const codeRecord = (code: string): AuthorizationCodeRecord | undefined => store.codes.get(code);

  return {
    async generateAccessToken() {
      return opaqueToken();
    },
    async generateRefreshToken() {
      return opaqueToken();
    },
    async generateAuthorizationCode() {
      return opaqueToken();
    },

    async getClient(clientId: string, clientSecret: string) {
      if (typeof clientSecret !== 'string') return false;
      const client = authenticClient(store, clientId, clientSecret);
      if (!client) return false;
      const request = tokenRequests.getStore();
      if (request) request.clientId = client.id;
      return libraryClient(client);
    },

    async saveAuthorizationCode(code, client, user) {
      const u = asSimUser(user);
      if (u.kind !== 'consent') throw new OAuth2Server.ServerError('Server error: a code needs a consent');
      const grant = store.grants.get(u.grantId);
      if (!grant) throw new OAuth2Server.ServerError('Server error: a code needs its grant');
      const record: AuthorizationCodeRecord = {
        code: code.authorizationCode,
        grantId: grant.id,
        clientId: client.id,
        ownerId: u.id,
        scopes: [...(code.scope ?? [])],
        vehicleIds: [...grant.vehicleIds],
        redirectUri: code.redirectUri,
        expiresAt: clock.now() + store.lifetimes.authorizationCodeSeconds * 1000,
        codeChallenge: code.codeChallenge,
        codeChallengeMethod: code.codeChallengeMethod,
        used: false,
      };
      store.codes.set(record.code, record);
      return { ...code, client, user };
    },

    async getAuthorizationCode(authorizationCode: string) {
      const record = codeRecord(authorizationCode);
      // Another client's code is no code at all: a plain invalid_grant, and no replay handling on its owner's tokens.
      if (!record || record.clientId !== requestingClient() || !requestingApi(store.grants.get(record.grantId))) return false;
      if (record.used) {
        // RFC 6749 4.1.2: a code used twice has leaked; what was issued from it goes too.
        const revoked = families.revokeCode(record.code);
        world.audit.record({
          ownerId: record.ownerId,
          clientId: record.clientId,
          action: 'auth.grant',
          outcome: 'denied',
          detail: `An authorization code was presented a second time; the ${revoked} live token(s) issued from it were revoked`,
        });
        throw new OAuth2Server.InvalidGrantError('Invalid grant: authorization code was already used; the tokens issued from it were revoked');
      }
      const client = store.clients.get(record.clientId);
      if (!client) return false;
      const user: SimUser = { kind: 'code', id: record.ownerId, code: record.code, grantId: record.grantId };
      return {
        authorizationCode: record.code,
        expiresAt: libraryDate(clock, record.expiresAt),
        redirectUri: record.redirectUri,
        scope: [...record.scopes],
        client: libraryClient(client),
        user,
        codeChallenge: record.codeChallenge,
        codeChallengeMethod: record.codeChallengeMethod,
      };
    },

    /** Single use: the library calls this before checking PKCE, so a wrong verifier burns the code too. */
    async revokeAuthorizationCode(code) {
      const record = codeRecord(code.authorizationCode);
      if (!record || record.used) return false;
      record.used = true;
      return true;
    },

    async getRefreshToken(refreshToken: string) {
      const record = store.refreshTokens.get(refreshToken);
      // Another client's token is unknown here: checked before reuse detection, which would end its owner's grant.
      if (!record || record.clientId !== requestingClient()) return false;
      const grant = store.grants.get(record.grantId);
      // Another API's token is unknown here too, and must not end that API's grant either.
      if (!requestingApi(grant)) return false;
      if (record.rotatedAt !== undefined) {
        // RFC 9700 4.14.2: a rotated token coming back means two parties hold it; end the grant.
        if (grant && grant.revokedAt === undefined) {
          store.revokeGrant(grant.id, 'refresh token reused');
          world.alerts.raise(
            record.ownerId,
            record.clientId,
            'refresh-token-reuse',
            'An old refresh token of this app was used again, so someone else may hold a copy. Access was revoked; reconnect the app to continue.',
          );
        }
        throw new OAuth2Server.InvalidGrantError('Invalid grant: refresh token was already used; every token of this grant was revoked');
      }
      if (record.revoked || !grant || grant.revokedAt !== undefined) return false;
      const client = store.clients.get(record.clientId);
      if (!client) return false;
      const user: SimUser = { kind: 'refresh', id: record.ownerId, grantId: record.grantId, refreshToken: record.token };
      return {
        refreshToken: record.token,
        refreshTokenExpiresAt: libraryDate(clock, record.expiresAt),
        scope: [...record.scopes],
        client: libraryClient(client),
        user,
      };
    },

    /** Rotation: the old refresh token is marked, not forgotten, so a replay can be recognised. */
    async revokeToken(token) {
      const record = store.refreshTokens.get(token.refreshToken);
      if (!record || record.revoked || record.rotatedAt !== undefined) return false;
      record.rotatedAt = clock.now();
      return true;
    },

    async getUserFromClient(client) {
      const owner = store.clients.get(client.id)?.fleetOwnerId;
      if (!owner || !store.owners.has(owner)) return false;
      const user: SimUser = { kind: 'fleet', id: owner };
      return user;
    },

    async validateScope(user, client, scope) {
      const u = asSimUser(user);
      if (u.kind !== 'fleet') return scope ?? [];
      const allowed = store.clients.get(client.id)?.fleetScopes ?? [];
      if (scope === undefined) return [...allowed];
      const reading = readRequestedScopes(scope.join(' '), client.id);
      if (!reading.ok) throw new OAuth2Server.InvalidScopeError(`Invalid scope: unknown scope ${reading.unknown.map((s) => `\`${s}\``).join(', ')}`);
      const granted = allowed.filter((s) => reading.scopes.includes(s));
      if (granted.length === 0) throw new OAuth2Server.InvalidScopeError('Invalid scope: none of the requested scopes is available to this client');
      return granted;
    },

    async saveToken(token, client, user) {
      const u = asSimUser(user);
      let grant: Grant | undefined;
      let family: string | undefined;
      // RFC 9470: a refresh carries the old sign-in forward; only a new consent renews it.
      let authTime: number | undefined;
      switch (u.kind) {
        case 'code':
          // The consent's own grant: another authorization of the same app never mixes in.
          grant = store.grants.get(u.grantId);
          family = families.forCode(u.code);
          break;
        case 'refresh':
          grant = store.grants.get(u.grantId);
          family = families.forToken(u.refreshToken);
          authTime = store.refreshTokens.get(u.refreshToken)?.authTime;
          break;
        case 'fleet':
          grant = fleetGrant(u.id, client.id, token.scope ?? []);
          break;
        default:
          throw new OAuth2Server.ServerError('Server error: unexpected token request');
      }
      if (!grant || grant.revokedAt !== undefined || (family !== undefined && families.isCompromised(family))) {
        throw new OAuth2Server.InvalidGrantError('Invalid grant: access to this account was revoked');
      }
      const live = grant;
      // Never more than the grant allows today.
      const scopes = (token.scope ?? []).filter((s) => live.scopes.includes(s));
      if (scopes.length === 0) throw new OAuth2Server.InvalidScopeError('Invalid scope: the owner no longer grants any of these scopes');
      const access = store.issueAccessToken(live, scopes, undefined, authTime, tokenRequests.getStore()?.mintBearer);
      const refresh = token.refreshToken !== undefined ? store.issueRefreshToken(live, scopes, access.authTime) : undefined;
      if (family !== undefined) families.add(family, access.token, ...(refresh ? [refresh.token] : []));
      // Extended attributes become the Ford-shaped response fields; expires_in is ours, not the
      // library's, which would compute it from a real-clock Date and round 1200 down to 1199.
      const saved: OAuth2Server.Token = {
        accessToken: access.token,
        scope: scopes,
        client,
        user,
        expires_in: Math.round((access.expiresAt - access.issuedAt) / 1000),
        expires_on: Math.floor(access.expiresAt / 1000),
      };
      if (refresh) {
        saved.refreshToken = refresh.token;
        saved.refresh_token_expires_in = Math.round((refresh.expiresAt - refresh.issuedAt) / 1000);
      }
      return saved;
    },

    async getAccessToken(accessToken: string) {
      const record = store.accessTokens.get(accessToken);
      const client = record && store.clients.get(record.clientId);
      if (!record || !client || record.revoked) return false;
      const user: SimUser = { kind: 'bearer', id: record.ownerId, grantId: record.grantId };
      return { accessToken: record.token, accessTokenExpiresAt: libraryDate(clock, record.expiresAt), scope: [...record.scopes], client: libraryClient(client), user };
    },
  };
}
