import { resolveOptions, World } from '../../src/sim';
import { collectStrings, coordinateKeys, fixedSecrets, tokenShapedStrings, type SecretKind, type Source } from './leak-scan';

/**
 * The scan of the whole suite's own output, in the mocha process itself: a
 * root-hook plugin (`.mocharc.json` requires this file; mocha runs
 * `mochaHooks` around every test of `npm test`).
 *
 * From the root `beforeAll` to the root `afterAll` it captures
 *
 * - every write to process.stdout and process.stderr (mocha's own lines, each
 *   console.log, Node-RED's console log handler, the simulator's stderr),
 * - every Node-RED log message (`@node-red/util` log.log: RED.log.*, and
 *   node.log / warn / error / debug / trace of every node),
 * - node.status, node.error and node.warn of the kit's own nodes (type
 *   `ford-…`), caught where they are called (a node.error a catch node
 *   handles never reaches the log),
 * - the audit records the kit's nodes send on output 2,
 *
 * and scans each captured string at once for the simulator's fixed secrets
 * (the demo and fleet clients' secrets, every VIN and vehicle id of the seed
 * fleets the suites use, their route coordinates) and for anything shaped like
 * a token (JWTs, bearer values, `access_token=…`, 43-character base64url).
 * Nothing is kept but the hits (a masked excerpt and where it came from), so
 * memory stays flat through the fleet load test. The root `afterAll` fails
 * with the list if there is any. SUITE_SCAN_STATS=1 prints what was scanned
 * and the time it took (about 0.4 s of a whole `npm test`).
 *
 * Messages a node sends on output 1 (flow data, which carries what the test
 * put in a message) and what the test helper's own nodes do are not captured:
 * the security suites feed hostile and token-shaped values on purpose, and
 * scan those paths per test themselves (test/security/leaks.test.ts with
 * leak-watch.ts).
 */

/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED's runtime internals are CommonJS, without types */
type Method = (this: NodeLike, ...args: unknown[]) => unknown;
interface NodeLike {
  id?: string;
  type?: string;
}
/** The prototype every Node-RED node shares (the test helper and leak-watch.ts wrap the same one). */
const NODE_PROTOTYPE = require('@node-red/runtime/lib/nodes/Node').prototype as Record<string, Method>;
/** The log every RED.log.* and node.log / warn / error goes through. */
const RED_LOG = require('@node-red/util').log as { log: (msg: unknown) => void; METRIC: number };
/* eslint-enable @typescript-eslint/no-require-imports */

export type HitKind = SecretKind | 'token-shaped string';

export interface Hit {
  kind: HitKind;
  source: Source;
  /** Who said it: `status of ford-lock k1`, `stdout`, `log ford-account acc level 30`. */
  where: string;
  /** The test (or hook) running when it was said. */
  during: string;
  /** The text around the find, the secret itself replaced by its kind: safe to print. */
  excerpt: string;
}

/** Hits kept in full for the report; past these only the count goes on. */
const MAX_HITS = 50;
/** Hits remembered to count a repeated one once (bounded too: memory stays flat however much leaks). */
const MAX_REPORTED_KEYS = 1000;
/** The clean strings remembered, and how long one may be. */
const MAX_CLEAN = 5000;
const MAX_CLEAN_LENGTH = 200;
/** What of a stdout / stderr chunk is scanned again with the next one, so a secret cut between two writes is found. */
const STDIO_OVERLAP = 80;

/**
 * What the scan looks for: fixedSecrets() of leak-scan.ts (client secrets,
 * seed-fleet VINs and ids), and the seed fleets' positions and route points
 * (the same in every run).
 */
export interface SuiteSecrets {
  credentials: [string, SecretKind][];
  /** Upper case. */
  vins: string[];
  /** Lower case. */
  vehicleIds: string[];
  /** coordinateKeys() of every fixed coordinate. */
  coordinateKeys: Set<string>;
}

export function suiteSecrets(seeds: number[] = [1, 7, 42, 99, 100, 2026]): SuiteSecrets {
  const fixed = fixedSecrets(seeds);
  const coordinates = new Set<number>();
  const add = (n: unknown): void => {
    // As leak-scan's addCoordinate: a position precise enough to matter.
    if (typeof n === 'number' && Number.isFinite(n) && Math.abs(n) <= 180 && Math.abs(n) >= 0.5 && !Number.isInteger(n)) coordinates.add(n);
  };
  for (const seed of seeds) {
    const world = new World(resolveOptions({ seed }));
    for (const v of world.fleet.list()) {
      const position = world.fleet.snapshot(v.id)?.position as { lat: number; lon: number } | undefined;
      add(position?.lat);
      add(position?.lon);
      for (const p of v.spec.route.points ?? []) {
        add(p.lat);
        add(p.lon);
      }
    }
    world.fleet.stop();
  }
  return {
    credentials: [...fixed.credentials],
    vins: [...fixed.vins].filter((v) => v.length >= 11).map((v) => v.toUpperCase()),
    vehicleIds: [...fixed.vehicleIds].filter((v) => v.length >= 16).map((v) => v.toLowerCase()),
    coordinateKeys: new Set([...coordinates].flatMap(coordinateKeys)),
  };
}

/** Number-shaped pieces of a text as coordinate keys (the same spellings as leak-scan's coordinateCandidates). */
function coordinateHit(text: string, keys: Set<string>): { index: number; length: number } | undefined {
  for (const m of text.matchAll(/(?<![0-9])([0-9]{1,5})[.,]([0-9]{2,})/g)) {
    const [whole, int, frac] = m;
    if (int.length <= 3 && frac.length >= 4 && keys.has(`d:${Number(int)}.${frac.slice(0, 4)}`)) return { index: m.index, length: whole.length };
    if (int.length >= 3 && keys.has(`m:${int}.${frac.slice(0, 2)}`)) return { index: m.index, length: whole.length };
  }
  for (const m of text.matchAll(/(?<![0-9])[0-9]{6,9}(?![0-9])/g)) if (keys.has(`u:${Number(m[0])}`)) return { index: m.index, length: m[0].length };
  for (const m of text.matchAll(/(?<![0-9])([0-9]{1,3})\s*°\s*([0-9]{1,2})\s*['′]\s*([0-9]{1,2})(?![0-9])/g)) {
    if (keys.has(`s:${Number(m[1])}°${Number(m[2])}'${Number(m[3])}`)) return { index: m.index, length: m[0].length };
  }
  return undefined;
}

/** The text around a find, the find replaced by its label and any other long run of token characters cut. */
export function maskedExcerpt(text: string, index: number, length: number, label: string): string {
  const hide = (t: string): string => t.replace(/[A-Za-z0-9_.~+/-]{12,}/g, '…').replace(/[\r\n]+/g, '⏎');
  return `${hide(text.slice(Math.max(0, index - 40), index))}«${label}»${hide(text.slice(index + length, index + length + 40))}`;
}

/**
 * The scanner: finds in one string at a time, keeps the hits only. Every
 * check is a linear pass (indexOf, or a regex without backtracking) behind a
 * cheap pre-test, so megabyte hostile strings and the fleet test's 600 nodes
 * cost little.
 */
export class SuiteScanner {
  readonly hits: Hit[] = [];
  /** Every hit, the ones past MAX_HITS too. */
  total = 0;
  /** Texts scanned (a write, a log message, a status, an audit record…), per source: that the capture saw something at all. */
  readonly scanned: Partial<Record<Source, number>> = {};
  /** Characters scanned (a repeated clean string once), and the time scanning took (collecting the strings of objects included). */
  chars = 0;
  nanos = 0n;
  during = 'outside any test';
  private readonly reported = new Set<string>();
  /** Short strings scanned and found clean, so a repeated one is not scanned again (bounded: cleared when full). */
  private readonly clean = new Set<string>();

  constructor(readonly secrets: SuiteSecrets = suiteSecrets()) {}

  /**
   * Scans one string. `from` skips finds that end before it (the overlap an
   * earlier stdio chunk was already scanned with).
   */
  scanText(source: Source, where: string, text: string, from = 0): void {
    this.scanned[source] = (this.scanned[source] ?? 0) + 1;
    this.scanString(source, where, text, from);
  }

  /** Whether it found anything (reported before or not). */
  private scanString(source: Source, where: string, text: string, from = 0): boolean {
    if (text.length < 6) return false;
    const started = process.hrtime.bigint();
    this.chars += text.length;
    let any = false;
    const found = (kind: HitKind, index: number, length: number, label: string = kind): void => {
      if (index + length <= from) return;
      any = true;
      this.hit({ kind, source, where, during: this.during, excerpt: maskedExcerpt(text, index, length, label) });
    };
    for (const [secret, kind] of this.secrets.credentials) {
      const i = text.indexOf(secret);
      if (i >= 0) found(kind, i, secret.length);
    }
    // Cheap gates first: most texts are short words, numbers and ids of Node-RED's own.
    if (/[A-Za-z0-9]{17}/.test(text)) {
      const upper = text.toUpperCase();
      for (const vin of this.secrets.vins) {
        const i = upper.indexOf(vin);
        if (i >= 0) found('VIN', i, vin.length);
      }
      const lower = text.toLowerCase();
      for (const id of this.secrets.vehicleIds) {
        const i = lower.indexOf(id);
        if (i >= 0) found('vehicle id', i, id.length);
      }
    }
    if (this.secrets.coordinateKeys.size > 0 && /[0-9][.,][0-9]{4}|[0-9]{3}[.,][0-9]{2}|[0-9]{6}|°/.test(text)) {
      const c = coordinateHit(text, this.secrets.coordinateKeys);
      if (c) found('coordinate', c.index, c.length);
    }
    // tokenShapedStrings looks for JWTs (eyJ…), bearer values, credential fields (…token, …secret, code_verifier) and 43-character runs.
    if (text.length >= 43 || (text.length >= 16 && /eyJ|bearer|token|secret|verifier/i.test(text))) {
      for (const shaped of tokenShapedStrings(text)) {
        const i = text.indexOf(shaped);
        found('token-shaped string', Math.max(0, i), shaped.length, `token-shaped, ${shaped.length} chars, ${shaped.slice(0, 4)}…`);
      }
    }
    this.nanos += process.hrtime.bigint() - started;
    return any;
  }

  /** Scans every string inside a value (a status object, an Error with its message, stack and cause, a log message). */
  scanValue(source: Source, where: string, value: unknown): void {
    this.scanned[source] = (this.scanned[source] ?? 0) + 1;
    if (typeof value === 'string') {
      this.scanString(source, where, value);
      return;
    }
    const started = process.hrtime.bigint();
    const texts = collectStrings(value);
    this.nanos += process.hrtime.bigint() - started;
    for (const text of texts) {
      // Most of what nodes say again and again (keys, "status delivered", "locked · 62%") was found clean before.
      if (this.clean.has(text)) continue;
      if (!this.scanString(source, where, text) && text.length <= MAX_CLEAN_LENGTH) {
        if (this.clean.size >= MAX_CLEAN) this.clean.clear();
        this.clean.add(text);
      }
    }
  }

  private hit(h: Hit): void {
    // The same line from the same place in the same test counts once (a status repeated every poll).
    const key = `${h.kind}|${h.source}|${h.where}|${h.during}|${h.excerpt}`;
    if (this.reported.has(key)) return;
    if (this.reported.size < MAX_REPORTED_KEYS) this.reported.add(key);
    this.total++;
    if (this.hits.length < MAX_HITS) this.hits.push(h);
  }

  report(): string {
    const lines = this.hits.map((h) => `- ${h.kind} in ${h.source} (${h.where}) during "${h.during}": ${h.excerpt}`);
    if (this.total > this.hits.length) lines.push(`… and ${this.total - this.hits.length} more`);
    return lines.join('\n');
  }
}

/**
 * The capture around the scanner: hooks on stdout / stderr, Node-RED's log
 * and the Node prototype, installed once for the whole run.
 *
 * The test helper wraps the same prototype methods per test (sinon spies,
 * given back on helper.unload) and leak-watch.ts wraps them per test too:
 * both wrap what they find, this hook, and put it back, so it stays
 * underneath them all run long. `displaced()` says which hooks are not on top
 * any more at the end (something replaced one and did not give it back).
 */
export class SuiteCapture {
  private installed: { target: Record<string, unknown>; name: string; original: unknown; hook: unknown; label: string }[] = [];
  private readonly tails = new Map<string, string>();

  constructor(readonly scanner: SuiteScanner) {}

  get capturing(): boolean {
    return this.installed.length > 0;
  }

  /** The hook installed on a prototype method, for the tests of this file. */
  hookOf(name: string): unknown {
    return this.installed.find((i) => i.target === NODE_PROTOTYPE && i.name === name)?.hook;
  }

  private install(target: Record<string, unknown>, name: string, hook: unknown, label: string): void {
    this.installed.push({ target, name, original: target[name], hook, label });
    target[name] = hook;
  }

  start(): void {
    if (this.capturing) throw new Error('the suite scan is already capturing');
    const scanner = this.scanner;

    for (const name of ['status', 'error', 'warn'] as const) {
      const original = NODE_PROTOTYPE[name];
      const source: Source = name;
      const hook = function (this: NodeLike, ...args: unknown[]) {
        // Only the kit's nodes: the helper's and Node-RED's own nodes say what the test told them to.
        if (typeof this?.type === 'string' && this.type.startsWith('ford-')) scanner.scanValue(source, `${name} of ${this.type} ${this.id}`, args[0]);
        return original.apply(this, args);
      };
      this.install(NODE_PROTOTYPE, name, hook, `Node.prototype.${name}`);
    }

    const send = NODE_PROTOTYPE.send;
    const sendHook = function (this: NodeLike, ...args: unknown[]) {
      const msgs = args[0];
      // Output 2 of a kit node: its audit records (output 1 is flow data, the test's own values in it).
      if (Array.isArray(msgs) && msgs.length > 1 && msgs[1] && typeof this?.type === 'string' && this.type.startsWith('ford-')) {
        scanner.scanValue('audit', `output 2 of ${this.type} ${this.id}`, msgs[1]);
      }
      return send.apply(this, args);
    };
    // Node-RED copies Node.prototype.send onto a node when it wires it (updateWires): nodes wired from now on carry this hook.
    this.install(NODE_PROTOTYPE, 'send', sendHook, 'Node.prototype.send');

    const log = RED_LOG.log;
    const logHook = function (this: unknown, msg: unknown) {
      const m = msg as (NodeLike & { level?: number }) | undefined;
      // Metric events (one per message sent) hold ids and event names only.
      if (m?.level !== RED_LOG.METRIC) scanner.scanValue('log', `log ${m?.type ?? 'runtime'} ${m?.id ?? ''} level ${m?.level ?? '?'}`, msg);
      return log.call(this, msg);
    };
    this.install(RED_LOG as unknown as Record<string, unknown>, 'log', logHook, 'RED.log.log');

    for (const [stream, name] of [
      [process.stdout, 'stdout'],
      [process.stderr, 'stderr'],
    ] as const) {
      const write = stream.write;
      const tails = this.tails;
      const writeHook = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
        const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk);
        const tail = tails.get(name) ?? '';
        scanner.scanText('stdio', name, tail + text, tail.length);
        tails.set(name, (tail + text).slice(-STDIO_OVERLAP));
        return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      };
      this.install(stream as unknown as Record<string, unknown>, 'write', writeHook, `process.${name}.write`);
    }
  }

  /** The hooks something else sits on top of now (it replaced one and did not put it back). */
  displaced(): string[] {
    return this.installed.filter((i) => i.target[i.name] !== i.hook).map((i) => i.label);
  }

  /** Puts every original back; returns the hooks that were displaced. */
  stop(): string[] {
    const displaced = this.displaced();
    for (const i of this.installed.reverse()) i.target[i.name] = i.original;
    this.installed = [];
    return displaced;
  }
}

/** The one capture of the run (the suite's tests of this hook look at it). */
export const suiteScan = new SuiteCapture(new SuiteScanner());

/** Mocha's root-hook plugin: `.mocharc.json` `require`s this file. */
export const mochaHooks = {
  beforeAll(): void {
    suiteScan.start();
  },
  beforeEach(this: Mocha.Context): void {
    suiteScan.scanner.during = this.currentTest?.fullTitle() ?? 'a hook';
  },
  afterEach(this: Mocha.Context): void {
    suiteScan.scanner.during = `after "${this.currentTest?.fullTitle() ?? 'a test'}"`;
  },
  afterAll(): void {
    const scanner = suiteScan.scanner;
    const displaced = suiteScan.stop();
    if (process.env.SUITE_SCAN_STATS) {
      process.stderr.write(`suite scan: ${JSON.stringify(scanner.scanned)} texts (writes, log messages, statuses, records), ${scanner.chars} characters, ${Number(scanner.nanos / 1_000_000n)} ms scanning, ${scanner.total} hit(s)\n`);
    }
    const problems: string[] = [];
    if (scanner.total > 0) {
      problems.push(`${scanner.total} secret(s) in the suite's own output (log lines, node status / error / warn and audit records of the kit's nodes, stdout / stderr):\n${scanner.report()}`);
    }
    if (displaced.length > 0) {
      problems.push(`the scan's hooks were replaced and not given back, so part of the run may have gone unscanned: ${displaced.join(', ')}`);
    }
    if (problems.length > 0) throw new Error(`test/helpers/suite-scan.ts: ${problems.join('\n')}`);
  },
};
