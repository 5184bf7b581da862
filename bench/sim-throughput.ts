import { fork } from 'node:child_process';
import path from 'node:path';
import { bareAgent, bareRequest, fordHeaders, READ_SCOPES } from './support/kit';
import { fmt, type BenchResult } from './support/report';
import { startSimChild } from './support/sim-child';

/**
 * 5. Simulator throughput on the vehicle-information endpoint, so it never is
 * the bottleneck of the other benchmarks: closed-loop load (autocannon's
 * model: C connections, each sending its next request when the answer is in)
 * from this process over node:http keep-alive, the simulator in its own
 * process. Baseline: a bare node:http server answering the same body, also
 * in a process of its own: the machine's ceiling for this load generator.
 */

const CONCURRENCY = [1, 16, 64, 256];
const SECONDS = 3;

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(url: string, headers: Record<string, string>, concurrency: number): Promise<Load> {
  const agent = bareAgent();
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  // A short warm-up opens the connections.
  await Promise.all(Array.from({ length: concurrency }, () => bareRequest(agent, url, { headers })));
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        try {
          const r = await bareRequest(agent, url, { headers });
          if (r.status !== 200) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - s);
      }
    }),
  );
  const wall = performance.now() - t0;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  return { rps: latencies.length / (wall / 1000), p50: pct(50), p99: pct(99), errors };
}

async function bareServer(body: string): Promise<{ url: string; close(): Promise<void> }> {
  const child = fork(path.join(__dirname, 'support', 'bare-server.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`the bare server exited (${code})`)));
    child.send({ body });
  });
  child.removeAllListeners('exit');
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

export async function simThroughputBench(): Promise<BenchResult> {
  const sim = await startSimChild({ timeScale: 1 });
  const figures: BenchResult['figures'] = [];
  try {
    const owner = await sim.addOwner('bench-throughput');
    const [vehicle] = await sim.addVehicles(owner.id, 1);
    const token = await sim.mintToken(owner.id, READ_SCOPES, [vehicle], 3600);
    const url = `${sim.url}/api/fordconnect/v3/vehicles/${vehicle}`;
    const headers = fordHeaders(token);
    const agent = bareAgent();
    const sample = await bareRequest(agent, url, { headers });
    agent.destroy();
    if (sample.status !== 200) throw new Error(`the vehicle-information endpoint answered ${sample.status}`);
    const bare = await bareServer(sample.body);
    try {
      for (const c of CONCURRENCY) {
        const s = await load(url, headers, c);
        const b = await load(bare.url, {}, c);
        figures.push({
          metric: `GET vehicle information, ${c} connection(s)`,
          value: `${fmt(s.rps)} req/s (p50 ${fmt(s.p50)} ms, p99 ${fmt(s.p99)} ms${s.errors ? `, ${s.errors} errors` : ''})`,
          baseline: `${fmt(b.rps)} req/s (p50 ${fmt(b.p50)} ms, p99 ${fmt(b.p99)} ms): bare node:http, same body`,
          goal: '≥ 670 req/s: 10 × what 1000 vehicles need at 30 s (67 req/s)',
        });
      }
    } finally {
      await bare.close();
    }
    return {
      title: 'Simulator throughput: the vehicle-information endpoint',
      setup: `Closed-loop load for ${SECONDS} s per concurrency from the bench process over node:http keep-alive (no new dependency), against the simulator in its own process (the whole pipeline: token check, audit log, counts, vehicle state, Ford's JSON of ${sample.body.length} bytes), and against a bare node:http server in its own process answering the same body.`,
      figures,
      notes: ['The load generator and the server share this machine\'s cores; the bare server shows how much of the ceiling is the generator\'s own.'],
    };
  } finally {
    await sim.close();
  }
}
