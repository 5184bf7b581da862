import type { World } from '../../src/sim';
import { makeVin } from '../../src/sim/vehicles/vin';
import type { VehicleState } from '../../src/sim/vehicles/vehicle';

/**
 * Grows the simulator's fleet for load tests and benchmarks: copies of the
 * seeded vehicles (same models, routes and state), each with its own id, VIN
 * and nickname, owned by `ownerId`. Ids and VINs come from the world's seeded
 * generator, so one seed gives one fleet.
 */
export function addVehicles(world: World, ownerId: string, count: number, options: { namePrefix?: string; onlyEngines?: string[] } = {}): string[] {
  const templates = world.fleet.list().filter((v) => !options.onlyEngines || options.onlyEngines.includes(v.engineType));
  if (templates.length === 0) throw new Error('no seeded vehicle to copy');
  const ids: string[] = [];
  const prefix = options.namePrefix ?? `${ownerId} car`;
  for (let i = 0; i < count; i++) {
    const t = templates[i % templates.length];
    const id = world.fleet.newVehicleId();
    const vin = makeVin(world.random, t.vin.slice(0, 8), Number(t.modelYear), t.vin[10]);
    const state: Partial<VehicleState> = t.state;
    delete state.time;
    world.fleet.add({ ...t.spec, id, vin, nickName: `${prefix} ${i + 1}`, ownerIds: [ownerId] }, state as Omit<VehicleState, 'time'>);
    ids.push(id);
  }
  return ids;
}

/** A sign-in for the consent page (password `demo`), for owners beyond the three demo ones. */
export function addOwner(world: World, id: string, email: string = `${id}@example.com`): { id: string; email: string; password: string } {
  const owner = { id, email, password: 'demo', name: id };
  world.store.addOwner(owner);
  return owner;
}
