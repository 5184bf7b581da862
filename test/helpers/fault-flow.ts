import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sinon from 'sinon';
import helper from 'node-red-node-test-helper';
import type { SimOptions } from '../../src/sim';
import { startSimulator, type RestartableSimulator } from '../../src/sim/server';
import { answerCounts } from '../../src/sim/control/answer-faults';
import type { FordAccount } from '../../src/lib/account';
import { commandRunner } from '../../src/lib/commands';
import type { AuditRecord } from '../../src/lib/audit';
import type { FordAccountNode } from '../../src/nodes/account-node';
import { consentAt } from './consent';
import { CREDENTIALS, NODE_MODULES, type FlowNode, type NodeStatusCall, type Outputs } from './vehicle-flow';

/**
 * The reliability suites' harness: what VehicleFlow does (a simulator and a
 * Node-RED per test, sinon fake timers, the account authorized through the
 * consent page, every vehicle node's outputs collected), plus what fault
 * tests need on top:
 * - simulator options per test (short token lifetimes, …);
 * - fake time and simulated time moved together ({@link advance});
 * - Node-RED restarted on the same user dir with the same flow, the kit's
 *   clock carrying on where it was, and every output kept across restarts;
 * - a recorder of unhandled rejections and uncaught exceptions;
 * - the account objects of every start (for their audit rings).
 */

const TAB = 'flow1';
const VEHICLE_NODE_TYPES: readonly string[] = ['ford-status', 'ford-location', 'ford-lock', 'ford-remote-start', 'ford-horn-lights', 'ford-charge'];
const FAKED = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] as const;

/** Unhandled rejections and uncaught exceptions while installed; a suite asserts the list stays empty. */
export class ProcessProblems {
  readonly seen: string[] = [];
  private readonly onRejection = (reason: unknown): void => {
    this.seen.push(`unhandledRejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  };
  private readonly onException = (err: Error): void => {
    this.seen.push(`uncaughtException: ${err.stack ?? err.message}`);
  };

  install(): void {
    process.on('unhandledRejection', this.onRejection);
    process.on('uncaughtException', this.onException);
  }

  uninstall(): void {
    process.off('unhandledRejection', this.onRejection);
    process.off('uncaughtException', this.onException);
  }
}

/**
 * HTTP requests this process has under way (node:http clients: the kit's
 * axios and simple-oauth2 calls; not fetch). The kit's request timeout
 * (axios) runs on the faked setTimeout: fake time must not move while a
 * request is on the wire, or a request that takes 5 real ms "times out".
 */
export class HttpWatch {
  inFlight = 0;
  private readonly onStart = (message: unknown): void => {
    const request = (message as { request: ClientRequest }).request;
    this.inFlight++;
    request.once('close', () => this.inFlight--);
  };

  install(): void {
    subscribe('http.client.request.start', this.onStart);
  }

  uninstall(): void {
    unsubscribe('http.client.request.start', this.onStart);
  }
}

const realSetTimeout = globalThis.setTimeout;
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

interface FakeTimer {
  func: (...args: unknown[]) => unknown;
  callAt: number;
  interval?: number;
}

/** undici's (fetch's) own parser timeouts: the test's browser steps leave them, not the kit. */
const NOT_THE_KIT = new Set(['onParserTimeout', 'onTick']);

/** When the earliest pending fake timer is due (fake epoch ms). */
function nextTimerAt(clock: sinon.SinonFakeTimers): number | undefined {
  const heap = (clock as unknown as { timerHeap?: { timers: FakeTimer[] } }).timerHeap;
  let at: number | undefined;
  for (const t of heap?.timers ?? []) if (at === undefined || t.callAt < at) at = t.callAt;
  return at;
}

/** Pending fake timers other than fetch's own, described (delay and the start of the function). */
export function kitTimers(clock: sinon.SinonFakeTimers): string[] {
  const heap = (clock as unknown as { timerHeap?: { timers: FakeTimer[] } }).timerHeap;
  return (heap?.timers ?? []).filter((t) => !NOT_THE_KIT.has(t.func.name)).map((t) => `in ${t.callAt - clock.now} ms: ${String(t.func).slice(0, 200)}`);
}

export class FaultFlow {
  sim!: RestartableSimulator;
  clock!: sinon.SinonFakeTimers;
  userDir!: string;
  /** Every FordAccount this test's Node-RED starts built, oldest first (one per start). */
  readonly accounts: FordAccount[] = [];
  /** Timers of the kit still pending after the last flow was closed (checked by {@link stop}). */
  leftoverTimers: string[] = [];
  readonly http = new HttpWatch();
  private flow: FlowNode[] = [];
  private credentials: Record<string, unknown> = CREDENTIALS;
  private readonly outputs = new Map<string, Outputs>();
  private readonly all = new Map<string, Outputs>();

  async start(simOptions: Partial<SimOptions> = {}): Promise<void> {
    this.accounts.length = 0;
    this.leftoverTimers = [];
    this.http.install();
    this.sim = await startSimulator({ port: 0, host: '127.0.0.1', seed: 42, ...simOptions });
    this.userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-faults-'));
    helper.settings({ userDir: this.userDir });
    await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
  }

  /**
   * Closes the flow under the fake timers (the hubs clear theirs), counts
   * what the kit left behind, then the rest. Idempotent enough for afterEach.
   */
  async stop(): Promise<void> {
    this.outputs.clear();
    this.all.clear();
    await helper.unload();
    if (this.clock) {
      // The simulator's own timers (vehicles settling commands) are its business, and close() clears them.
      this.sim?.world.fleet.stop();
      this.leftoverTimers = kitTimers(this.clock);
      this.clock.restore();
    }
    this.clock = undefined as unknown as sinon.SinonFakeTimers;
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await this.sim?.close();
    this.http.uninstall();
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }

  /** Installs fake timers starting at `now`, loads the flow and collects the outputs of every vehicle node. */
  async load(flow: FlowNode[], credentials: Record<string, unknown> = CREDENTIALS, now: number = Date.now()): Promise<void> {
    this.flow = flow;
    this.credentials = credentials;
    this.clock = sinon.useFakeTimers({ now, toFake: [...FAKED], shouldClearNativeTimers: true });
    await helper.load(NODE_MODULES, [{ id: TAB, type: 'tab', label: 'fault tests' }, ...flow], credentials);
    this.collect(flow);
    this.accounts.push(this.account);
  }

  /** Collects the outputs of every vehicle node of a freshly loaded flow. */
  private collect(flow: FlowNode[]): void {
    for (const n of flow) {
      if (!VEHICLE_NODE_TYPES.includes(n.type)) continue;
      const o: Outputs = { out: [], audit: [], auditMsgs: [] };
      let all = this.all.get(n.id);
      if (!all) {
        all = { out: [], audit: [], auditMsgs: [] };
        this.all.set(n.id, all);
      }
      const acrossRestarts = all;
      this.outputs.set(n.id, o);
      helper.getNode(`${n.id}-out`).on('input', (msg: unknown) => {
        o.out.push(msg as Record<string, unknown>);
        acrossRestarts.out.push(msg as Record<string, unknown>);
      });
      helper.getNode(`${n.id}-audit`).on('input', (msg: unknown) => {
        const record = (msg as { payload: AuditRecord }).payload;
        for (const target of [o, acrossRestarts]) {
          target.auditMsgs.push(msg as Record<string, unknown>);
          target.audit.push(record);
        }
      });
    }
  }

  /**
   * Node-RED stops and starts again on the same user dir with the same flow
   * and credentials, as after a restart: the flow is closed (under the fake
   * timers, so the hubs clear theirs), the runtime stopped and started, the
   * flow loaded again. The kit's clock goes on from where it was; timers
   * pending in the old one die with it, as they would with the old process,
   * and so does the process-wide command runner's memory (cooldowns,
   * commands being followed). Requests on the wire finish first: a clean stop.
   */
  async restartNodeRed(): Promise<void> {
    await this.settle();
    await helper.unload();
    commandRunner.reset();
    const now = Date.now();
    this.clock.restore();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    await this.load(this.flow, this.credentials, now);
  }

  /**
   * A full deploy of the same flow in the same process: the nodes close and
   * new ones start (a new FordAccount reading the same token file), while
   * whatever the old ones had under way — a command being followed, a
   * request on the wire — goes on with the same clock, as it does in
   * Node-RED.
   */
  async redeploy(): Promise<void> {
    await helper.unload();
    await helper.load(NODE_MODULES, [{ id: TAB, type: 'tab', label: 'fault tests' }, ...this.flow], this.credentials);
    this.collect(this.flow);
    this.accounts.push(this.account);
  }

  /**
   * Real time until the kit's HTTP is quiet: nothing on the wire for a few
   * turns of the event loop (a refresh answer is followed by the API call it
   * was for), or everything on the wire held at the simulator (`latencyMs`:
   * only fake time lets it go on). 5 s of real time at most.
   */
  async settle(): Promise<void> {
    const start = performance.now();
    let quiet = 0;
    let held = 0;
    while (quiet < 4) {
      if (performance.now() - start > 5000) throw new Error(`HTTP still under way after 5 s: ${this.http.inFlight} request(s), ${this.sim.openRequests} open at the simulator`);
      await turn();
      if (this.http.inFlight === 0) {
        quiet++;
        held = 0;
      } else if (this.http.inFlight <= this.sim.openRequests) {
        // Everything on the wire has reached the simulator: being served, or held by its latency fault.
        quiet = 0;
        if (++held > 3) {
          await new Promise((r) => realSetTimeout(r, 25));
          if (this.http.inFlight > 0 && this.http.inFlight <= this.sim.openRequests) return;
          held = 0;
        }
      } else {
        quiet = 0;
        held = 0;
        if (performance.now() - start > 2) await new Promise((r) => realSetTimeout(r, 1));
      }
    }
  }

  /**
   * Fake time (the kit's timers and Date) and the simulator's clock forward
   * together by `ms`, from one due timer to the next, letting HTTP finish
   * in real time before each step — as if every request took no time at all.
   */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now + ms;
    for (;;) {
      await this.settle();
      const next = nextTimerAt(this.clock);
      const to = next === undefined || next > end ? end : Math.max(next, this.clock.now);
      const step = to - this.clock.now;
      this.sim.world.clock.advance(step);
      await this.clock.tickAsync(step);
      if (to >= end && (next === undefined || next > end)) break;
    }
    await this.settle();
  }

  /** Moves both clocks forward in steps until `check` holds or `maxMs` have passed; returns the fake time it took. */
  async advanceUntil(check: () => boolean, stepMs: number, maxMs: number): Promise<number> {
    let spent = 0;
    while (!check() && spent < maxMs) {
      await this.advance(stepMs);
      spent += stepMs;
    }
    return spent;
  }

  get account(): FordAccount {
    const account = (helper.getNode('acc') as unknown as FordAccountNode).account;
    if (!account) throw new Error('the ford-account node has no account');
    return account;
  }

  /** The outputs of one vehicle node since the last (re)start. */
  of(id: string): Outputs {
    const o = this.outputs.get(id);
    if (!o) throw new Error(`no vehicle node ${id} in the flow`);
    return o;
  }

  /** The outputs of one vehicle node since the test began, across Node-RED restarts. */
  ever(id: string): Outputs {
    const o = this.all.get(id);
    if (!o) throw new Error(`no vehicle node ${id} in the flow`);
    return o;
  }

  /** Every audit record any vehicle node sent on output 2 since the test began. */
  everyNodeAudit(): AuditRecord[] {
    return [...this.all.values()].flatMap((o) => o.audit);
  }

  /** Editor: Authorize; browser: sign in and consent (ticking `tick`); provider: back to the callback. */
  async authorize(tick: string[]): Promise<void> {
    const start = await helper.request().post('/ford-connect/accounts/acc/authorize').send({}).expect(200);
    const redirect = new URL(await consentAt(start.body.url as string, { tick }));
    await helper.request().get(`/ford-connect/auth/callback${redirect.search}`).expect(200).expect(/Connected/);
  }

  statuses(id: string): NodeStatusCall[] {
    const node = helper.getNode(id);
    const spy = node.status as unknown as sinon.SinonSpy;
    return spy
      .getCalls()
      .filter((c) => c.thisValue === node)
      .map((c) => c.args[0] as NodeStatusCall);
  }

  lastStatus(id: string): NodeStatusCall | undefined {
    return this.statuses(id).at(-1);
  }

  /** Every node.error() of one node since the last (re)start: the first argument of each. */
  errors(id: string): unknown[] {
    const node = helper.getNode(id);
    const spy = node.error as unknown as sinon.SinonSpy;
    return spy
      .getCalls()
      .filter((c) => c.thisValue === node)
      .map((c) => c.args[0]);
  }

  /** A request count at the simulator (any key of its RequestCounts). */
  count(key: string): number {
    return this.sim.world.counts.get(key);
  }

  /** An answer count at the simulator: `api.<status>`, `api.401.token-expired`, `api.body-fault` (see answer-faults.ts). */
  answers(key: string): number {
    return answerCounts(this.sim.world).get(key);
  }

  ownedVehicles(ownerId = 'owner-1'): { id: string; nickName: string; engineType: string }[] {
    return this.sim.world.fleet.ownedBy(ownerId).map((v) => ({ id: v.id, nickName: v.spec.nickName, engineType: v.spec.engineType }));
  }
}

/** Prints a figure a test measured when FAULT_REPORT is set (`FAULT_REPORT=1 npx mocha …`), for the record. */
export function measured(label: string, value: unknown): void {
  if (process.env.FAULT_REPORT) console.log(`      measured: ${label} = ${JSON.stringify(value)}`);
}
