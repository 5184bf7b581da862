import type { Grant } from '../oauth/store';
import type { World } from '../world';

/** A grant as the control API shows it: what and when, never a token or secret. */
export interface GrantView {
  id: string;
  ownerId: string;
  clientId: string;
  clientName: string;
  /** `authorization_code` (one grant per consent) or `client_credentials` (one per fleet app). */
  flow: Grant['flow'];
  scopes: string[];
  vehicleIds: string[];
  createdAt: string;
  /** The owner sign-in behind a consent (RFC 9470 auth_time); null for a fleet grant. */
  authTime: string | null;
  lastAccessAt: string | null;
  revokedAt: string | null;
  revokedReason: string | null;
  ipAllowList: string[];
  /** Unexpired, unrevoked access tokens under this grant: a count, never the strings. */
  liveAccessTokens: number;
  /** FordConnect Query authorizations only: the API and the data categories the owner ticked. */
  api?: 'fcon-query';
  categories?: string[];
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function grantView(world: World, grant: Grant): GrantView {
  const now = world.clock.now();
  let live = 0;
  for (const t of world.store.accessTokens.values()) if (t.grantId === grant.id && !t.revoked && t.expiresAt > now) live++;
  return {
    id: grant.id,
    ownerId: grant.ownerId,
    clientId: grant.clientId,
    clientName: world.store.clients.get(grant.clientId)?.name ?? grant.clientId,
    flow: grant.flow,
    scopes: [...grant.scopes],
    vehicleIds: [...grant.vehicleIds],
    createdAt: new Date(grant.createdAt).toISOString(),
    authTime: iso(grant.authTime),
    lastAccessAt: iso(grant.lastAccessAt),
    revokedAt: iso(grant.revokedAt),
    revokedReason: grant.revokedReason ?? null,
    ipAllowList: [...grant.ipAllowList],
    liveAccessTokens: grant.revokedAt === undefined ? live : 0,
    ...(grant.api ? { api: grant.api, categories: [...(grant.categories ?? [])] } : {}),
  };
}

export function clockView(world: World): { now: number; iso: string; timeScale: number } {
  const now = world.clock.now();
  return { now, iso: new Date(now).toISOString(), timeScale: world.clock.scale };
}
