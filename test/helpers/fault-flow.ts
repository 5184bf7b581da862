import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { expect } from 'chai';
import type sinon from 'sinon';
import helper from 'node-red-node-test-helper';
import type { SimOptions } from '../../src/sim';
import { startSimulator, type RestartableSimulator } from '../../src/sim/server';
import { answerCounts } from '../../src/sim/control/answer-faults';
import type { FordAccount } from '../../src/lib/account';
import { commandRunner } from '../../src/lib/commands';
import type { AuditRecord } from '../../src/lib/audit';
import { CREDENTIALS, noOutputs, realPause, VehicleFlow, type FlowNode, type Outputs } from './vehicle-flow';

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

export class FaultFlow extends VehicleFlow {
  declare sim: RestartableSimulator;
  /** Every FordAccount this test's Node-RED starts built, oldest first (one per start). */
  readonly accounts: FordAccount[] = [];
  /** Timers of the kit still pending after the last flow was closed (checked by {@link stop}). */
  leftoverTimers: string[] = [];
  readonly http = new HttpWatch();
  protected override readonly tabLabel: string = 'fault tests';
  protected override readonly userDirPrefix: string = 'ford-faults-';
  private flow: FlowNode[] = [];
  private credentials: Record<string, unknown> = CREDENTIALS;
  private readonly all = new Map<string, Outputs>();

  override async start(simOptions: Partial<SimOptions> = {}): Promise<void> {
    this.accounts.length = 0;
    this.leftoverTimers = [];
    this.http.install();
    this.sim = await startSimulator({ port: 0, host: '127.0.0.1', seed: 42, ...simOptions });
    await this.startNodeRed();
  }

  /**
   * Closes the flow under the fake timers (the hubs clear theirs), counts
   * what the kit left behind, then the rest. Idempotent enough for afterEach.
   */
  override async stop(): Promise<void> {
    this.all.clear();
    await super.stop();
    this.http.uninstall();
  }

  protected override flowClosed(clock: sinon.SinonFakeTimers): void {
    // The simulator's own timers (vehicles settling commands) are its business, and close() clears them.
    this.sim?.world.fleet.stop();
    this.leftoverTimers = kitTimers(clock);
  }

  /** Installs fake timers starting at `now`, loads the flow and collects the outputs of every vehicle node. */
  override async load(flow: FlowNode[], credentials: Record<string, unknown> = CREDENTIALS, now: number = Date.now()): Promise<void> {
    this.flow = flow;
    this.credentials = credentials;
    await super.load(flow, credentials, now);
  }

  protected override async loadFlow(flow: FlowNode[], credentials: Record<string, unknown>): Promise<void> {
    await super.loadFlow(flow, credentials);
    this.accounts.push(this.account);
  }

  /** Every vehicle node's outputs are also kept across restarts, for {@link ever}. */
  protected override alsoCollectInto(id: string): Outputs[] {
    let all = this.all.get(id);
    if (!all) {
      all = noOutputs();
      this.all.set(id, all);
    }
    return [all];
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
    await this.stopServer();
    await this.startServer();
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
    await this.loadFlow(this.flow, this.credentials);
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
          await realPause(25);
          if (this.http.inFlight > 0 && this.http.inFlight <= this.sim.openRequests) return;
          held = 0;
        }
      } else {
        quiet = 0;
        held = 0;
        if (performance.now() - start > 2) await realPause(1);
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

  /** A request count at the simulator (any key of its RequestCounts). */
  override count(key: string): number {
    return this.sim.world.counts.get(key);
  }

  /** An answer count at the simulator: `api.<status>`, `api.401.token-expired`, `api.body-fault` (see answer-faults.ts). */
  answers(key: string): number {
    return answerCounts(this.sim.world).get(key);
  }
}

/** Prints a figure a test measured when FAULT_REPORT is set (`FAULT_REPORT=1 npx mocha …`), for the record. */
export function measured(label: string, value: unknown): void {
  if (process.env.FAULT_REPORT) console.log(`      measured: ${label} = ${JSON.stringify(value)}`);
}

/**
 * The hooks the reliability suites share, registered in the calling
 * describe(): the process watched for unhandled rejections and uncaught
 * exceptions; before each test a clean command runner, a FaultFlow started
 * (default simulator options) and `truck` set to the owner's first vehicle;
 * after each, the flow stopped, and nothing unhandled and no timer of the
 * kit left behind. `truck` is one object, refilled before each test.
 * `startEach: false`: the tests start the flow themselves (other simulator
 * options) and fill `truck` themselves.
 */
export function faultSuite({ startEach = true } = {}): { f: FaultFlow; problems: ProcessProblems; truck: { id: string; nickName: string; engineType: string } } {
  const f = new FaultFlow();
  const problems = new ProcessProblems();
  const truck = { id: '', nickName: '', engineType: '' };

  before(() => problems.install());
  after(() => problems.uninstall());
  beforeEach(async () => {
    commandRunner.reset();
    if (!startEach) return;
    await f.start();
    Object.assign(truck, f.ownedVehicles()[0]);
  });
  afterEach(async () => {
    await f.stop();
    expect(problems.seen, 'unhandled rejections / uncaught exceptions').to.deep.equal([]);
    expect(f.leftoverTimers, 'timers the kit left behind').to.deep.equal([]);
  });
  return { f, problems, truck };
}
