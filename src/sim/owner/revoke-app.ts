import type { Grant } from '../oauth/store';
import type { World } from '../world';
import { appName } from './format';

/**
 * The owner's "Revoke now": the grant and every token under it end at once,
 * and the owner's own records say so. Shared by the Connected Apps page and
 * the /sim control route so both behave exactly alike.
 * Returns false when the grant was already revoked (nothing recorded twice).
 */
export function revokeAsOwner(world: World, grant: Grant, ip: string | undefined, via: string): boolean {
  const wasLive = grant.revokedAt === undefined;
  world.store.revokeGrant(grant.id, 'revoked by the owner');
  if (!wasLive) return false;
  const name = appName(world, grant.clientId);
  world.audit.record({
    ownerId: grant.ownerId,
    clientId: grant.clientId,
    action: 'auth.revoked',
    outcome: 'ok',
    detail: `Access revoked by the owner (${via}); every token of this app stopped working at once`,
    ip,
  });
  world.alerts.raise(grant.ownerId, grant.clientId, 'app-revoked', `${name} was disconnected from your account; it can no longer reach your vehicles.`);
  return true;
}
