import sinon from 'sinon';
import { VehicleHubs } from '../src/lib/vehicle-hub';
import { authorizedAccount, bareAgent, bareRequest, fordHeaders, READ_SCOPES, until } from './support/kit';
import type { BenchResult } from './support/report';
import { startSimChild, type SimChild } from './support/sim-child';

/**
 * 1. API calls per vehicle-hour for N status + N location nodes on one
 * vehicle: through the kit's hub, and through the hand-built flow a user
 * would otherwise wire (an inject node repeating every 30 s into an http
 * request node, once per node: N × 2 independent pollers). One simulated
 * hour on both sides: sinon's fake timers for the pollers, the simulator's
 * clock (standing still) advanced alongside; calls counted at the simulator.
 */

const INTERVAL_MS = 30_000;
const INTERVALS = 120; // one hour
const NS = [1, 5, 20];

interface Run {
  info: number;
  location: number;
  refreshes: number;
  /** Fewest readings any node got in the hour (freshness). */
  readingsPerNode: number;
}

/** Keep-alive sockets of earlier real-time calls may close while the fakes are in: their timers are cleared for real. */
const FAKES = { toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] as ('setTimeout' | 'clearTimeout' | 'setInterval' | 'clearInterval' | 'Date')[], shouldClearNativeTimers: true };

async function kitRun(sim: SimChild, owner: { email: string }, vehicle: string, n: number): Promise<Run> {
  const account = await authorizedAccount(sim.url, owner, READ_SCOPES, [vehicle]);
  const clock = sinon.useFakeTimers({ now: Date.now(), ...FAKES });
  const hubs = new VehicleHubs();
  const got = new Array<number>(2 * n).fill(0);
  const unsubscribe: (() => void)[] = [];
  try {
    for (let j = 0; j < 2 * n; j++) {
      const count = (): void => {
        got[j]++;
      };
      unsubscribe.push(hubs.subscribe(account, vehicle, j < n ? { wants: 'status', intervalSeconds: INTERVAL_MS / 1000, onStatus: count } : { wants: 'location', intervalSeconds: INTERVAL_MS / 1000, onLocation: count }));
    }
    await clock.tickAsync(0);
    await until(() => got.every((g) => g >= 1), 'the first poll');
    await sim.resetCounts();
    for (let k = 1; k <= INTERVALS; k++) {
      await sim.advance(INTERVAL_MS);
      await clock.tickAsync(INTERVAL_MS);
      await until(() => got.every((g) => g >= k + 1), `poll ${k}`);
    }
    const c = await sim.counts();
    return { info: c['api.vehicle.info'] ?? 0, location: c['api.vehicle.location'] ?? 0, refreshes: c['oauth.token.refresh_token'] ?? 0, readingsPerNode: Math.min(...got) - 1 };
  } finally {
    for (const u of unsubscribe) u();
    clock.restore();
  }
}

async function baselineRun(sim: SimChild, ownerId: string, vehicle: string, n: number, apiUrl: string): Promise<Run> {
  // The hand-built flow's token is someone else's problem (a long-lived one here): only its vehicle calls count.
  const token = await sim.mintToken(ownerId, READ_SCOPES, [vehicle], 4 * 3600);
  const clock = sinon.useFakeTimers({ now: Date.now(), ...FAKES });
  const agent = bareAgent();
  const got = new Array<number>(2 * n).fill(0);
  let failures = 0;
  const timers: ReturnType<typeof setInterval>[] = [];
  try {
    for (let j = 0; j < 2 * n; j++) {
      const url = j < n ? `${apiUrl}/v3/vehicles/${vehicle}` : `${apiUrl}/v2/vehicles/${vehicle}/location`;
      const poll = (): void => {
        bareRequest(agent, url, { headers: fordHeaders(token) }).then(
          (r) => {
            if (r.status === 200) {
              JSON.parse(r.body);
              got[j]++;
            } else failures++;
          },
          () => failures++,
        );
      };
      // An inject node with "inject once at start" and "repeat every 30 s".
      poll();
      timers.push(setInterval(poll, INTERVAL_MS));
    }
    await until(() => got.every((g) => g >= 1) || failures > 0, 'the first poll');
    await sim.resetCounts();
    for (let k = 1; k <= INTERVALS && failures === 0; k++) {
      await sim.advance(INTERVAL_MS);
      await clock.tickAsync(INTERVAL_MS);
      await until(() => got.every((g) => g >= k + 1) || failures > 0, `poll ${k}`);
    }
    if (failures > 0) throw new Error(`the baseline pollers failed ${failures} time(s)`);
    const c = await sim.counts();
    return { info: c['api.vehicle.info'] ?? 0, location: c['api.vehicle.location'] ?? 0, refreshes: 0, readingsPerNode: Math.min(...got) - 1 };
  } finally {
    for (const t of timers) clearInterval(t);
    clock.restore();
    agent.destroy();
  }
}

export async function apiCallsBench(): Promise<BenchResult> {
  const sim = await startSimChild({ timeScale: 1e-6 });
  const figures: BenchResult['figures'] = [];
  const notes: string[] = [];
  try {
    const owner = await sim.addOwner('bench-calls');
    const vehicles = await sim.addVehicles(owner.id, NS.length);
    for (const [i, n] of NS.entries()) {
      const kit = await kitRun(sim, owner, vehicles[i], n);
      const apiUrl = `${sim.url}/api/fordconnect`;
      const base = await baselineRun(sim, owner.id, vehicles[i], n, apiUrl);
      figures.push({
        metric: `API calls per vehicle-hour, ${n} status + ${n} location node(s)`,
        value: `${kit.info + kit.location} (${kit.info} status + ${kit.location} location)`,
        baseline: `${base.info + base.location} (${base.info} + ${base.location}): inject + http request ×${2 * n}`,
        goal: '240 whatever N: one status + one location call per 30 s',
      });
      figures.push({
        metric: `  readings per node per hour (freshness), N = ${n}`,
        value: String(kit.readingsPerNode),
        baseline: String(base.readingsPerNode),
        goal: 'equal to the baseline (120)',
      });
      notes.push(`N = ${n}: the kit also made ${kit.refreshes} token refresh(es) in the hour (access tokens live 1200 s, refreshed 60 s early); the baseline's long-lived token is not counted.`);
    }
  } finally {
    await sim.close();
  }
  return {
    title: 'API calls per vehicle-hour: the shared hub against independent pollers',
    setup: `One vehicle, N ford-status and N ford-location subscribers at 30 s on the kit's vehicle hub (a real FordAccount, authorized over the consent page), against N × 2 independent pollers of node:http each calling its endpoint every 30 s, the model of a hand-built flow of core inject + http request nodes with the same freshness. One simulated hour (${INTERVALS} intervals after the first poll) on sinon's fake timers, the simulator's clock advanced alongside; calls counted at the simulator (api.vehicle.info, api.vehicle.location).`,
    figures,
    notes,
  };
}
