import { appName } from '../owner/format';
import type { World } from '../world';
import { isSensitiveScope } from './scopes';
import type { Grant } from './store';

/**
 * What the owner is told when an app gets rights: an alert for a new app and
 * one per sensitive scope it did not have before, and an `auth.grant` audit
 * line. Never a token or a code: only names.
 */
export function recordGrant(
  world: World,
  result: { grant: Grant; created: boolean; addedScopes: string[] },
  how: string,
  ip?: string,
): void {
  const { grant, created, addedScopes } = result;
  const name = appName(world, grant.clientId);
  const vehicles = `${grant.vehicleIds.length} vehicle${grant.vehicleIds.length === 1 ? '' : 's'}`;
  if (created) {
    world.alerts.raise(grant.ownerId, grant.clientId, 'app-connected', `${name} was connected to your account (${grant.scopes.join(', ')} on ${vehicles}).`);
  }
  for (const scope of addedScopes.filter(isSensitiveScope)) {
    world.alerts.raise(grant.ownerId, grant.clientId, 'sensitive-scope-granted', `${name} was granted the sensitive right ${scope}.`);
  }
  world.audit.record({
    ownerId: grant.ownerId,
    clientId: grant.clientId,
    action: 'auth.grant',
    outcome: 'ok',
    detail: `${created ? 'Access granted' : 'Access changed'} (${how}): ${grant.scopes.join(' ')} on ${vehicles}`,
    ip,
  });
}
