import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Measuring helpers for the load test and the benchmarks: a garbage
 * collection on demand (without `--expose-gc` on the command line), heap
 * after a full collection, and the event loop's delay histogram.
 */

let gcFn: (() => void) | undefined;

/**
 * `global.gc` when node runs with --expose-gc; otherwise the flag is set at
 * runtime and a fresh context hands out its gc (V8 installs it per context).
 * Undefined if neither works.
 */
export function gcFunction(): (() => void) | undefined {
  if (gcFn) return gcFn;
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return (gcFn = existing);
  try {
    v8.setFlagsFromString('--expose-gc');
    const fromContext = vm.runInNewContext('gc') as unknown;
    if (typeof fromContext === 'function') gcFn = fromContext as () => void;
  } catch {
    gcFn = undefined;
  }
  return gcFn;
}

/** Heap in use after full collections (several: weak references and finalizers need more than one pass). */
export async function settledHeapBytes(): Promise<{ bytes: number; collected: boolean }> {
  const gc = gcFunction();
  if (!gc) return { bytes: process.memoryUsage().heapUsed, collected: false };
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { bytes: process.memoryUsage().heapUsed, collected: true };
}

export interface LagMonitor {
  /** Stops measuring and returns the figures, in milliseconds. */
  stop(): LagFigures;
}

export interface LagFigures {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  samples: number;
}

/** perf_hooks' event-loop delay histogram (a native timer: sinon's fake timers do not touch it). */
export function monitorLag(resolutionMs = 10): LagMonitor {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  return {
    stop: () => {
      h.disable();
      const ms = (ns: number): number => ns / 1e6;
      return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean), samples: h.count };
    },
  };
}

export function mib(bytes: number): number {
  return bytes / (1024 * 1024);
}
