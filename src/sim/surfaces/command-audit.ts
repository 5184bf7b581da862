import type { CommandKind } from '../vehicles/commands';
import type { World } from '../world';

/** Owner audit actions (DESIGN.md) for each vehicle command. */
export const COMMAND_ACTIONS: Record<CommandKind, string> = {
  lock: 'lock',
  unlock: 'unlock',
  startEngine: 'remote-start',
  stopEngine: 'remote-stop',
  wake: 'status.refresh',
  status: 'status.refresh',
  location: 'location.read',
  signal: 'horn-lights',
  startCharge: 'charge.start',
  stopCharge: 'charge.stop',
};

const wired = new WeakSet<World>();

/**
 * The 202 says only "accepted"; what the vehicle then did is the owner's
 * business too. One record per command outcome, once per world however many
 * surfaces are mounted.
 */
export function auditCommandOutcomes(world: World): void {
  if (wired.has(world)) return;
  wired.add(world);
  world.fleet.onCommandSettled((command) => {
    if (!command.context) return;
    world.audit.record({
      ownerId: command.context.ownerId,
      clientId: command.context.clientId,
      vehicleId: command.vehicleId,
      action: COMMAND_ACTIONS[command.kind],
      outcome: command.status === 'COMPLETED' ? 'ok' : 'failed',
      detail: `${command.kind} ${command.id}: ${command.status}${command.reason ? ` (${command.reason})` : ''}`,
      ...(command.context.ip !== undefined ? { ip: command.context.ip } : {}),
    });
  });
}
