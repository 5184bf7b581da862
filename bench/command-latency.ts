import { CommandRunner, COMMAND_SPECS, type CommandAction } from '../src/lib/commands';
import type { VehicleApi } from '../src/lib/api/vehicle-api';
import { authorizedAccount, realSleep } from './support/kit';
import { fmt, type BenchResult } from './support/report';
import { startSimChild } from './support/sim-child';

/**
 * 2. Command latency, real time: from `runner.run()` to its result, minus
 * the simulator's own completion time (commandDelayMs: the floor). The
 * baseline is a client with nothing between it and the API: the kit's own
 * API client sending the command and asking for its state every 10 ms, so
 * the difference is the runner's polling schedule (first ask after 250 ms,
 * then doubling to once a second).
 */

/** Floors (simulator commandDelayMs) and runs of each command at each: a few, this is real time. */
const FLOORS: { ms: number; runs: number }[] = [
  { ms: 100, runs: 5 },
  { ms: 4000, runs: 2 },
];
/** Lanes run side by side, each on a vehicle of its own; the actions of a lane alternate so each finds the vehicle ready. */
const LANES: CommandAction[][] = [['lock', 'unlock'], ['remote-start', 'remote-stop'], ['horn-lights'], ['charge.start', 'charge.stop']];
const SCOPES = ['read:status', 'command:lock', 'command:remote-start', 'command:horn-lights', 'command:charge'] as const;

interface Sample {
  ms: number;
  status: string;
}

async function direct(api: VehicleApi, vehicleId: string, action: CommandAction): Promise<Sample> {
  const spec = COMMAND_SPECS[action];
  const t0 = performance.now();
  const commandId = await api.sendCommand(vehicleId, spec.command);
  for (;;) {
    await realSleep(10);
    const state = await api.commandState(vehicleId, spec.command, commandId);
    if (state.state === 'completed' || state.state === 'failed') return { ms: performance.now() - t0, status: state.state === 'completed' ? 'success' : 'failed' };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function commandLatencyBench(): Promise<BenchResult> {
  const figures: BenchResult['figures'] = [];
  const notes: string[] = [];
  for (const { ms: floor, runs } of FLOORS) {
    const sim = await startSimChild({ timeScale: 1, commandDelayMs: floor });
    try {
      const owner = await sim.addOwner(`bench-commands-${floor}`);
      // Copies of the plugged-in Mach-E: every command, charging included, applies.
      const vehicles = await sim.addVehicles(owner.id, LANES.length, { onlyEngines: ['BEV'] });
      const account = await authorizedAccount(sim.url, owner, [...SCOPES], vehicles);
      const runner = new CommandRunner();
      const api = account.vehicleApi();
      const kit = new Map<CommandAction, Sample[]>();
      const base = new Map<CommandAction, Sample[]>();
      const push = (m: Map<CommandAction, Sample[]>, a: CommandAction, s: Sample): void => {
        m.set(a, [...(m.get(a) ?? []), s]);
      };
      await Promise.all(
        LANES.map(async (lane, i) => {
          for (let r = 0; r < runs; r++) {
            for (const action of lane) {
              const t0 = performance.now();
              const result = await runner.run({ account, vehicleId: vehicles[i], action, cooldownSeconds: 0, timeoutSeconds: 60 });
              push(kit, action, { ms: performance.now() - t0, status: result.status });
              push(base, action, await direct(api, vehicles[i], action));
            }
          }
        }),
      );
      for (const lane of LANES) {
        for (const action of lane) {
          const k = kit.get(action) ?? [];
          const b = base.get(action) ?? [];
          const bad = [...k, ...b].filter((s) => s.status !== 'success').length;
          figures.push({
            metric: `${action}, floor ${floor} ms: latency − floor`,
            value: `${fmt(median(k.map((s) => s.ms)) - floor)} ms (median of ${k.length}; max ${fmt(Math.max(...k.map((s) => s.ms)) - floor)})`,
            baseline: `${fmt(median(b.map((s) => s.ms)) - floor)} ms (API client asking every 10 ms)`,
            goal: floor <= 250 ? '≤ 250 ms: the first ask comes 250 ms after sending' : '≤ 1 s: asks at most once a second in the first 15 s',
          });
          if (bad) notes.push(`${action} at floor ${floor} ms: ${bad} run(s) did not end in success (${[...k, ...b].map((s) => s.status).join(', ')})`);
        }
      }
    } finally {
      await sim.close();
    }
  }
  notes.push('Latency = from the call to its result, in real time; the simulator answers a command after exactly commandDelayMs (time scale 1), which is subtracted. Ford\'s own vehicles take seconds, the simulator\'s default is 4000 ms.');
  return {
    title: 'Command latency over the simulator\'s completion time',
    setup: `Each command ${FLOORS.map((f) => `${f.runs} times at floor ${f.ms} ms`).join(' and ')} through CommandRunner.run() (cooldown 0, a real FordAccount with every command scope), lanes of alternating commands side by side on copies of the plugged-in Mach-E; after each, the same command through the kit's API client asking for the state every 10 ms (the baseline). Simulator commandDelayMs = the floor, time scale 1, in a process of its own.`,
    figures,
    notes,
  };
}
