import { startSimulator, type RunningSimulator, type SimOptions } from '../../src/sim';

/** Starts a simulator on a free loopback port for one suite. */
export async function withSimulator(options: Partial<SimOptions> = {}): Promise<RunningSimulator> {
  return startSimulator({ port: 0, host: '127.0.0.1', seed: 42, ...options });
}

/**
 * Mints a token for API tests that are not about OAuth itself: the same grant
 * and token records the consent flow creates, without the browser steps.
 */
export function mintToken(
  sim: RunningSimulator,
  ownerId: string,
  scopes: string[],
  options: { clientId?: string; vehicleIds?: string[]; lifetimeSeconds?: number } = {},
): { token: string; grantId: string } {
  const { world } = sim;
  const clientId = options.clientId ?? world.options.demoClient.id;
  const vehicleIds = options.vehicleIds ?? world.fleet.ownedBy(ownerId).map((v) => v.id);
  const { grant } = world.store.upsertGrant(ownerId, clientId, scopes, vehicleIds);
  const record = world.store.issueAccessToken(grant, scopes, options.lifetimeSeconds);
  return { token: record.token, grantId: grant.id };
}
