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
  // An app may hold several authorizations (one per consent); only this one ends.
  const others = world.store.grantsOfOwner(grant.ownerId).filter((g) => g.clientId === grant.clientId && g.revokedAt === undefined).length;
  const remaining = others === 0 ? '' : `; ${others} other authorization${others === 1 ? '' : 's'} of this app remain${others === 1 ? 's' : ''}`;
  world.audit.record({
    ownerId: grant.ownerId,
    clientId: grant.clientId,
    action: 'auth.revoked',
    outcome: 'ok',
    detail: `Access revoked by the owner (${via}); every token of this authorization stopped working at once${remaining}`,
    ip,
  });
  world.alerts.raise(
    grant.ownerId,
    grant.clientId,
    'app-revoked',
    others === 0
      ? `${name} was disconnected from your account; it can no longer reach your vehicles.`
      : `One authorization of ${name} was revoked; its tokens stopped working. ${others} other authorization${others === 1 ? '' : 's'} of this app stay${others === 1 ? 's' : ''} on your Connected Apps page.`,
  );
  return true;
}
