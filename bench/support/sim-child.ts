import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { SimOptions } from '../../src/sim';

/** The parent's side of bench/support/sim-process.ts: a simulator in a child process. */
export interface SimChild {
  url: string;
  addOwner(id: string): Promise<{ id: string; email: string; password: string }>;
  addVehicles(ownerId: string, count: number, options?: { onlyEngines?: string[] }): Promise<string[]>;
  /** Advances the simulated clock; resolves with the simulated now. */
  advance(ms: number): Promise<number>;
  now(): Promise<number>;
  counts(): Promise<Record<string, number>>;
  resetCounts(): Promise<void>;
  /** A bearer of a grant of its own (the demo app's unless `clientId` says otherwise), as if the owner had consented. */
  mintToken(ownerId: string, scopes: string[], vehicleIds: string[], lifetimeSeconds: number, clientId?: string): Promise<string>;
  liveGrants(ownerId: string, clientId: string): Promise<number>;
  memory(): Promise<NodeJS.MemoryUsage>;
  cpu(): Promise<NodeJS.CpuUsage>;
  close(): Promise<void>;
}

/** Simulator options every benchmark shares: no rate limits (the benchmarks measure the kit, not Ford's quotas), a fixed seed. */
export const BENCH_SIM: Partial<SimOptions> = { seed: 8, rateLimits: { perClientPerMinute: 0, perVehiclePerMinute: 0 } };

export async function startSimChild(options: Partial<SimOptions> = {}): Promise<SimChild> {
  const child: ChildProcess = fork(path.join(__dirname, 'sim-process.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the simulator process exited (${code})`)));
    child.on('message', (m: { ready?: string; id?: number; result?: unknown; error?: string }) => {
      if (m.ready) return resolve(m.ready);
      const p = m.id === undefined ? undefined : pending.get(m.id);
      if (!p || m.id === undefined) return;
      pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`simulator: ${m.error}`));
      else p.resolve(m.result);
    });
    child.send({ start: { ...BENCH_SIM, ...options, rateLimits: { ...BENCH_SIM.rateLimits, ...options.rateLimits } } });
  });
  child.removeAllListeners('exit');
  const call = <T>(op: string, ...args: unknown[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, op, args });
    });
  return {
    url,
    addOwner: (id) => call('addOwner', id),
    addVehicles: (ownerId, count, o = {}) => call('addVehicles', ownerId, count, o),
    advance: (ms) => call('advance', ms),
    now: () => call('now'),
    counts: () => call('counts'),
    resetCounts: () => call('resetCounts'),
    mintToken: (ownerId, scopes, vehicleIds, lifetimeSeconds, clientId) => call('mintToken', ownerId, scopes, vehicleIds, lifetimeSeconds, clientId),
    liveGrants: (ownerId, clientId) => call('liveGrants', ownerId, clientId),
    memory: () => call('memory'),
    cpu: () => call('cpu'),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.disconnect();
      }),
  };
}
