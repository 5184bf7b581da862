import { randomBytes } from 'node:crypto';
import type { SimClock } from '../clock';

/**
 * What the authorization server remembers: registered apps, owners, the
 * grants owners gave to apps, and the codes and tokens issued under them.
 * In memory on purpose: the simulator starts clean (or from a seed) each run.
 */

export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';

export interface SimClient {
  id: string;
  secret: string;
  name: string;
  redirectUris: string[];
  grants: GrantType[];
  /** Client-credentials (fleet) apps act for this owner's vehicles with these scopes. */
  fleetOwnerId?: string;
  fleetScopes?: string[];
}

export interface Owner {
  id: string;
  email: string;
  password: string;
  name: string;
}

/** How a grant came about: an owner's consent (one grant per consent) or a fleet app's client credentials (one per app). */
export type GrantFlow = 'authorization_code' | 'client_credentials';

/**
 * One authorization of an app on one owner's account: what the Connected
 * Apps page lists. Every completed consent is a grant of its own, so one app
 * may hold several (one per vehicle, say), each revocable on its own.
 */
export interface Grant {
  id: string;
  ownerId: string;
  clientId: string;
  flow: GrantFlow;
  scopes: string[];
  /** Vehicles this grant reaches; FordConnect Query grants cover exactly one. */
  vehicleIds: string[];
  /**
   * Set on FordConnect Query authorizations (/fcon-public/v1/auth/init) only:
   * their tokens work on that API alone, and the data categories the owner
   * ticked decide which metrics and endpoints answer. Absent: the catalogue
   * OAuth server's grants (FordConnect v1 and the fleet gateway).
   */
  api?: 'fcon-query';
  categories?: string[];
  createdAt: number;
  /**
   * Consents only: when the owner last authenticated (signed in) for this
   * authorization, RFC 9470's auth_time. Fleet grants have none: their
   * tokens count as authenticated when issued (see issueAccessToken).
   */
  authTime?: number;
  lastAccessAt?: number;
  revokedAt?: number;
  revokedReason?: string;
  /** Addresses this app may call from; empty means anywhere. */
  ipAllowList: string[];
}

export interface AccessTokenRecord {
  token: string;
  grantId: string;
  clientId: string;
  ownerId: string;
  scopes: string[];
  issuedAt: number;
  expiresAt: number;
  /** RFC 9470 auth_time, epoch ms (simulated): the owner sign-in behind this token, kept across refreshes. */
  authTime: number;
  revoked: boolean;
}

export interface RefreshTokenRecord {
  token: string;
  grantId: string;
  clientId: string;
  ownerId: string;
  scopes: string[];
  issuedAt: number;
  expiresAt: number;
  /** The auth_time the access tokens bought with it carry: a refresh is not a sign-in (RFC 9470). */
  authTime: number;
  /** Set when exchanged: a second use is a replay and revokes the grant (RFC 9700 4.14.2). */
  rotatedAt?: number;
  revoked: boolean;
}

export interface AuthorizationCodeRecord {
  code: string;
  /** The consent's own grant: the tokens this code buys belong to it. */
  grantId: string;
  clientId: string;
  ownerId: string;
  scopes: string[];
  vehicleIds: string[];
  redirectUri: string;
  expiresAt: number;
  codeChallenge?: string;
  codeChallengeMethod?: string;
  used: boolean;
}

export interface TokenLifetimes {
  accessTokenSeconds: number;
  refreshTokenSeconds: number;
  authorizationCodeSeconds: number;
}

export type TokenCheck =
  | { ok: true; record: AccessTokenRecord; grant: Grant }
  | { ok: false; reason: 'missing' | 'unknown' | 'expired' | 'revoked' };

/**
 * Builds the bearer string of an access token instead of a random one (the
 * FordConnect Query id_token, a JWT). It must be unique: include a random id.
 */
export type BearerMinter = (claims: { grant: Grant; issuedAt: number; expiresAt: number; authTime: number }) => string;

export function opaqueToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export class OAuthStore {
  readonly clients = new Map<string, SimClient>();
  readonly owners = new Map<string, Owner>();
  readonly grants = new Map<string, Grant>();
  readonly accessTokens = new Map<string, AccessTokenRecord>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly codes = new Map<string, AuthorizationCodeRecord>();
  private grantSeq = 0;

  constructor(
    private readonly clock: SimClock,
    public readonly lifetimes: TokenLifetimes,
  ) {}

  addClient(client: SimClient): SimClient {
    this.clients.set(client.id, client);
    return client;
  }

  addOwner(owner: Owner): Owner {
    this.owners.set(owner.id, owner);
    return owner;
  }

  ownerByEmail(email: string): Owner | undefined {
    const wanted = email.trim().toLowerCase();
    return [...this.owners.values()].find((o) => o.email.toLowerCase() === wanted);
  }

  /** The newest live grant of an owner to an app (of one flow, if named); an app may hold several. */
  activeGrant(ownerId: string, clientId: string, flow?: GrantFlow): Grant | undefined {
    let newest: Grant | undefined;
    for (const g of this.grants.values()) {
      if (g.ownerId === ownerId && g.clientId === clientId && g.revokedAt === undefined && (flow === undefined || g.flow === flow)) newest = g;
    }
    return newest;
  }

  /**
   * A new grant, beside any the app already holds: every completed consent gets its own.
   * `authTime`: the owner's sign-in behind a consent (default: now).
   */
  createGrant(ownerId: string, clientId: string, scopes: string[], vehicleIds: string[], flow: GrantFlow = 'authorization_code', authTime?: number): Grant {
    const now = this.clock.now();
    const grant: Grant = {
      id: `grant-${++this.grantSeq}`,
      ownerId,
      clientId,
      flow,
      scopes: [...scopes],
      vehicleIds: [...vehicleIds],
      createdAt: now,
      ...(flow === 'authorization_code' ? { authTime: authTime ?? now } : {}),
      ipAllowList: [],
    };
    this.grants.set(grant.id, grant);
    return grant;
  }

  /**
   * Client credentials only: a fleet app keeps one live grant per owner,
   * created on first use, later with its scopes and vehicles replaced.
   * Consents never come here (createGrant), so they never touch each other.
   */
  upsertGrant(ownerId: string, clientId: string, scopes: string[], vehicleIds: string[]): { grant: Grant; created: boolean; addedScopes: string[] } {
    const existing = this.activeGrant(ownerId, clientId, 'client_credentials');
    if (existing) {
      const addedScopes = scopes.filter((s) => !existing.scopes.includes(s));
      existing.scopes = [...scopes];
      existing.vehicleIds = [...vehicleIds];
      return { grant: existing, created: false, addedScopes };
    }
    const grant = this.createGrant(ownerId, clientId, scopes, vehicleIds, 'client_credentials');
    return { grant, created: true, addedScopes: [...scopes] };
  }

  grantsOfOwner(ownerId: string): Grant[] {
    return [...this.grants.values()].filter((g) => g.ownerId === ownerId);
  }

  /** Revokes a grant and every token under it, at once. */
  revokeGrant(grantId: string, reason: string): Grant | undefined {
    const grant = this.grants.get(grantId);
    if (!grant) return undefined;
    if (grant.revokedAt === undefined) {
      grant.revokedAt = this.clock.now();
      grant.revokedReason = reason;
    }
    for (const t of this.accessTokens.values()) if (t.grantId === grantId) t.revoked = true;
    for (const t of this.refreshTokens.values()) if (t.grantId === grantId) t.revoked = true;
    for (const [code, c] of this.codes) if (c.grantId === grantId) this.codes.delete(code);
    return grant;
  }

  /**
   * `authTime` defaults to the grant's. A client-credentials grant has none, so
   * its token counts as authenticated at issue: the fleet app proved its secret
   * just now, and a step-up max age shorter than the token's life then makes
   * it fetch a fresh token rather than exempting fleet apps from the rule.
   */
  issueAccessToken(grant: Grant, scopes: string[], lifetimeSeconds = this.lifetimes.accessTokenSeconds, authTime?: number, mint?: BearerMinter): AccessTokenRecord {
    const now = this.clock.now();
    const expiresAt = now + lifetimeSeconds * 1000;
    const effectiveAuthTime = authTime ?? grant.authTime ?? now;
    const record: AccessTokenRecord = {
      token: mint ? mint({ grant, issuedAt: now, expiresAt, authTime: effectiveAuthTime }) : opaqueToken(),
      grantId: grant.id,
      clientId: grant.clientId,
      ownerId: grant.ownerId,
      scopes: [...scopes],
      issuedAt: now,
      expiresAt,
      authTime: effectiveAuthTime,
      revoked: false,
    };
    // A minted string must be as unique as a random one: a clash would hand one app's record to another.
    if (this.accessTokens.has(record.token)) throw new Error('minted access token is not unique');
    this.accessTokens.set(record.token, record);
    return record;
  }

  issueRefreshToken(grant: Grant, scopes: string[], authTime?: number): RefreshTokenRecord {
    const now = this.clock.now();
    const record: RefreshTokenRecord = {
      token: opaqueToken(),
      grantId: grant.id,
      clientId: grant.clientId,
      ownerId: grant.ownerId,
      scopes: [...scopes],
      issuedAt: now,
      expiresAt: now + this.lifetimes.refreshTokenSeconds * 1000,
      authTime: authTime ?? grant.authTime ?? now,
      revoked: false,
    };
    this.refreshTokens.set(record.token, record);
    return record;
  }

  /** Checks a bearer token on the simulated clock; records the grant's last access. */
  checkAccessToken(token: string | undefined): TokenCheck {
    if (!token) return { ok: false, reason: 'missing' };
    const record = this.accessTokens.get(token);
    if (!record) return { ok: false, reason: 'unknown' };
    const grant = this.grants.get(record.grantId);
    if (record.revoked || !grant || grant.revokedAt !== undefined) return { ok: false, reason: 'revoked' };
    if (record.expiresAt <= this.clock.now()) return { ok: false, reason: 'expired' };
    grant.lastAccessAt = this.clock.now();
    return { ok: true, record, grant };
  }

  /** Fault injection: every live access token expires now, as after a long sleep. */
  expireAllAccessTokens(): number {
    const now = this.clock.now();
    let count = 0;
    for (const t of this.accessTokens.values()) {
      if (!t.revoked && t.expiresAt > now) {
        t.expiresAt = now;
        count++;
      }
    }
    return count;
  }
}
