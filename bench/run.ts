import path from 'node:path';
import { apiCallsBench } from './api-calls';
import { commandLatencyBench } from './command-latency';
import { fleetScaleBench } from './fleet-scale';
import { simThroughputBench } from './sim-throughput';
import { tokenRefreshBench } from './token-refresh';
import { cleanUp } from './support/kit';
import { machine, markdown, printResult, writeMarkdown, type BenchResult } from './support/report';

/**
 * `npm run bench`: every benchmark in turn, a table each on stdout, and
 * bench/results.md with the machine and the date. Figures, not pass/fail.
 * `npm run bench -- <name>…` runs only those (api-calls, command-latency,
 * token-refresh, fleet-scale, sim-throughput) and writes no results.md.
 */

const BENCHES: { name: string; run: () => Promise<BenchResult> }[] = [
  { name: 'api-calls', run: apiCallsBench },
  { name: 'command-latency', run: commandLatencyBench },
  { name: 'token-refresh', run: tokenRefreshBench },
  { name: 'fleet-scale', run: fleetScaleBench },
  { name: 'sim-throughput', run: simThroughputBench },
];

/** build/bench/run.js → the checkout's bench/. */
const RESULTS = path.resolve(__dirname, '..', '..', 'bench', 'results.md');

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const unknown = only.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) throw new Error(`unknown benchmark(s): ${unknown.join(', ')}; one of ${BENCHES.map((b) => b.name).join(', ')}`);
  const m = machine();
  console.log(`ford-connect benchmarks on ${m.cpu} (${m.cores} cores), ${m.os}, node ${m.node}`);
  const started = performance.now();
  const results: BenchResult[] = [];
  try {
    for (const b of BENCHES.filter((x) => only.length === 0 || only.includes(x.name))) {
      const t0 = performance.now();
      process.stdout.write(`\n${b.name}…`);
      const result = await b.run();
      result.seconds = (performance.now() - t0) / 1000;
      results.push(result);
      printResult(result);
    }
  } finally {
    cleanUp();
  }
  const total = (performance.now() - started) / 1000;
  console.log(`\nall done in ${total.toFixed(0)} s`);
  if (only.length === 0) {
    writeMarkdown(RESULTS, markdown(results, m, total));
    console.log(`wrote ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
