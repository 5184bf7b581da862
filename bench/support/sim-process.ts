import { startSimulator, type RunningSimulator, type SimOptions } from '../../src/sim';
import { addOwner, addVehicles } from '../../test/helpers/fleet';
import { mintToken } from '../../test/helpers/sim';

/**
 * The simulator in a process of its own, driven over IPC by the benchmarks
 * (bench/support/sim-child.ts), so the figures of the kit's process are the
 * kit's alone and the simulator gets a core of its own.
 */

type Request = { id: number; op: string; args: unknown[] };

let sim: RunningSimulator | undefined;

const ops: Record<string, (...args: never[]) => unknown> = {
  addOwner: (id: string) => addOwner(need().world, id),
  addVehicles: (ownerId: string, count: number, options: { onlyEngines?: string[] } = {}) => addVehicles(need().world, ownerId, count, options),
  advance: (ms: number) => need().world.clock.advance(ms),
  now: () => need().world.clock.now(),
  counts: () => need().world.counts.snapshot(),
  resetCounts: () => need().world.counts.reset(),
  mintToken: (ownerId: string, scopes: string[], vehicleIds: string[], lifetimeSeconds: number, clientId?: string) => mintToken(need(), ownerId, scopes, { vehicleIds, lifetimeSeconds, ...(clientId ? { clientId } : {}) }).token,
  /** Live (unrevoked) grants of an owner to an app. */
  liveGrants: (ownerId: string, clientId: string) => [...need().world.store.grants.values()].filter((g) => g.ownerId === ownerId && g.clientId === clientId && g.revokedAt === undefined).length,
  memory: () => process.memoryUsage(),
  cpu: () => process.cpuUsage(),
};

function need(): RunningSimulator {
  if (!sim) throw new Error('the simulator has not started');
  return sim;
}

process.on('message', (message: { start: Partial<SimOptions> } | Request) => {
  void (async () => {
    if ('start' in message) {
      sim = await startSimulator({ port: 0, host: '127.0.0.1', ...message.start });
      process.send?.({ ready: sim.url });
      return;
    }
    const { id, op, args } = message;
    try {
      const fn = ops[op];
      if (!fn) throw new Error(`unknown op ${op}`);
      const result = await (fn as (...a: unknown[]) => unknown)(...args);
      process.send?.({ id, result });
    } catch (err) {
      process.send?.({ id, error: err instanceof Error ? err.message : String(err) });
    }
  })();
});

process.on('disconnect', () => {
  void (sim?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
