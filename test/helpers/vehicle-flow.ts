import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sinon from 'sinon';
import helper from 'node-red-node-test-helper';
import type { RunningSimulator } from '../../src/sim';
import type { FordAccount } from '../../src/lib/account';
import type { AuditRecord } from '../../src/lib/audit';
import type { FordAccountNode } from '../../src/nodes/account-node';
import { consentAt } from './consent';
import { signIn } from './oauth-flow';
import { withSimulator } from './sim';

/**
 * What the ford-status and ford-location node suites share: a simulator and a
 * Node-RED (test helper) per test, sinon fake timers for the vehicle hub, the
 * account authorized through the editor endpoint and the consent page, and
 * each vehicle node wired to two helper nodes that collect its outputs.
 */

/* eslint-disable @typescript-eslint/no-require-imports -- node-red-node-test-helper loads node modules as CommonJS */
export const NODE_MODULES: unknown[] = [
  require('../../src/nodes/ford-account'),
  require('../../src/nodes/ford-status'),
  require('../../src/nodes/ford-location'),
  require('../../src/nodes/ford-lock'),
  require('../../src/nodes/ford-remote-start'),
  require('../../src/nodes/ford-horn-lights'),
  require('../../src/nodes/ford-charge'),
];
/* eslint-enable @typescript-eslint/no-require-imports */

export type VehicleNodeType = 'ford-status' | 'ford-location' | 'ford-lock' | 'ford-remote-start' | 'ford-horn-lights' | 'ford-charge';
const VEHICLE_NODE_TYPES: readonly string[] = ['ford-status', 'ford-location', 'ford-lock', 'ford-remote-start', 'ford-horn-lights', 'ford-charge'];

export const REDIRECT = 'http://127.0.0.1:1880/ford-connect/auth/callback';
const TAB = 'flow1';
export const CREDENTIALS = { acc: { clientId: 'demo-client', clientSecret: 'demo-secret' } };

/** The globals {@link VehicleFlow.load} fakes. */
const FAKED = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] as const;

/** Captured before any test fakes the global timers: real waits for real HTTP. */
const realSetTimeout = globalThis.setTimeout;

export interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

export interface NodeStatusCall {
  fill?: string;
  shape?: string;
  text?: string;
}

export interface Outputs {
  /** Messages on output 1. */
  out: Record<string, unknown>[];
  /** Audit records (msg.payload) on output 2. */
  audit: AuditRecord[];
  /** The whole output-2 messages (topic included). */
  auditMsgs: Record<string, unknown>[];
}

export function noOutputs(): Outputs {
  return { out: [], audit: [], auditMsgs: [] };
}

export function accountNode(simUrl: string, scopes: string[], extra: Record<string, unknown> = {}): FlowNode {
  return { id: 'acc', type: 'ford-account', name: 'My Ford', preset: 'simulator', apiUrl: simUrl, grant: 'authorization_code', redirectUri: REDIRECT, scopes, ...extra };
}

/** A vehicle node (status, location or command) with both outputs wired to helper nodes `<id>-out` and `<id>-audit`. */
export function vehicleNode(type: VehicleNodeType, id: string, props: Record<string, unknown>): FlowNode[] {
  return [
    { id, type, z: TAB, name: `my ${id}`, account: 'acc', wires: [[`${id}-out`], [`${id}-audit`]], ...props },
    { id: `${id}-out`, z: TAB, type: 'helper' },
    { id: `${id}-audit`, z: TAB, type: 'helper' },
  ];
}

/** Real turns of the event loop (setImmediate is not faked) until `check` holds; 5 s of real time at most. */
export async function until(check: () => boolean, what: string): Promise<void> {
  const start = performance.now();
  for (let i = 0; ; i++) {
    if (check()) return;
    if (performance.now() - start > 5000) throw new Error(`timed out waiting for ${what}`);
    // Mostly immediate turns; now and then a real millisecond so sockets get their turn.
    await (i % 50 === 49 ? new Promise((r) => realSetTimeout(r, 1)) : new Promise((r) => setImmediate(r)));
  }
}

/** A short real wait, for "nothing happened" checks: long enough for a request that was started to reach the simulator. */
export function realPause(ms = 60): Promise<void> {
  return new Promise((r) => realSetTimeout(r, ms));
}

export class VehicleFlow {
  sim!: RunningSimulator;
  clock!: sinon.SinonFakeTimers;
  userDir!: string;
  /** The label of the flow's tab, and how the temporary user dir's name begins. */
  protected readonly tabLabel: string = 'vehicle nodes';
  protected readonly userDirPrefix: string = 'ford-vehicle-nodes-';
  private readonly outputs = new Map<string, Outputs>();

  /** beforeEach: a fresh simulator (its state, counts and faults are the test's own) and Node-RED. */
  async start(): Promise<void> {
    this.sim = await withSimulator();
    await this.startNodeRed();
  }

  /** A fresh user dir for Node-RED (the test helper's server), and the server started on it. */
  protected async startNodeRed(): Promise<void> {
    this.userDir = fs.mkdtempSync(path.join(os.tmpdir(), this.userDirPrefix));
    helper.settings({ userDir: this.userDir });
    await this.startServer();
  }

  protected startServer(): Promise<void> {
    return new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
  }

  protected stopServer(): Promise<void> {
    return new Promise<void>((resolve) => helper.stopServer(() => resolve()));
  }

  /** afterEach: close the flow while the fake timers are still there (the hubs clear theirs), then everything else. */
  async stop(): Promise<void> {
    this.outputs.clear();
    await helper.unload();
    if (this.clock) {
      this.flowClosed(this.clock);
      this.clock.restore();
    }
    this.clock = undefined as unknown as sinon.SinonFakeTimers;
    await this.stopServer();
    await this.sim?.close();
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }

  /** Called by {@link stop} once the flow is closed, while the fake timers are still installed. */
  protected flowClosed(_clock: sinon.SinonFakeTimers): void {}

  /**
   * Installs fake timers starting at `now` (before the flow starts, so every
   * hub timer is fake), loads the flow and collects the outputs of every
   * vehicle node in it.
   */
  async load(flow: FlowNode[], credentials: Record<string, unknown> = CREDENTIALS, now: number = Date.now()): Promise<void> {
    this.clock = sinon.useFakeTimers({ now, toFake: [...FAKED], shouldClearNativeTimers: true });
    await this.loadFlow(flow, credentials);
  }

  /** Loads the flow into the running Node-RED (on whatever timers are installed) and collects its vehicle nodes' outputs. */
  protected async loadFlow(flow: FlowNode[], credentials: Record<string, unknown>): Promise<void> {
    await helper.load(NODE_MODULES, [{ id: TAB, type: 'tab', label: this.tabLabel }, ...flow], credentials);
    for (const n of flow) {
      if (!VEHICLE_NODE_TYPES.includes(n.type)) continue;
      const o = noOutputs();
      this.outputs.set(n.id, o);
      const targets = [o, ...this.alsoCollectInto(n.id)];
      helper.getNode(`${n.id}-out`).on('input', (msg: unknown) => {
        for (const t of targets) t.out.push(msg as Record<string, unknown>);
      });
      helper.getNode(`${n.id}-audit`).on('input', (msg: unknown) => {
        const record = (msg as { payload: AuditRecord }).payload;
        for (const t of targets) {
          t.auditMsgs.push(msg as Record<string, unknown>);
          t.audit.push(record);
        }
      });
    }
  }

  /** Where else the outputs of vehicle node `id` are collected, besides {@link of}'s (none here). */
  protected alsoCollectInto(_id: string): Outputs[] {
    return [];
  }

  get account(): FordAccount {
    const account = (helper.getNode('acc') as unknown as FordAccountNode).account;
    if (!account) throw new Error('the ford-account node has no account');
    return account;
  }

  /** The outputs of one vehicle node since the flow was last loaded. */
  of(id: string): Outputs {
    const o = this.outputs.get(id);
    if (!o) throw new Error(`no vehicle node ${id} in the flow`);
    return o;
  }

  /** Editor: Authorize; browser: sign in and consent (ticking `tick`); provider: back to the callback. */
  async authorize(tick: string[], owner: { email?: string } = {}): Promise<void> {
    const start = await helper.request().post('/ford-connect/accounts/acc/authorize').send({}).expect(200);
    const redirect = new URL(await consentAt(start.body.url as string, { tick, ...owner }));
    await helper.request().get(`/ford-connect/auth/callback${redirect.search}`).expect(200).expect(/Connected/);
  }

  /** The owner presses "Revoke now" on every live demo-app connection on the Connected Apps page. */
  async revokeOnConnectedAppsPage(): Promise<number> {
    const cookie = await signIn(this.sim.url);
    const live = [...this.sim.world.store.grants.values()].filter((g) => g.clientId === 'demo-client' && g.ownerId === 'owner-1' && g.revokedAt === undefined);
    for (const grant of live) {
      const res = await fetch(`${this.sim.url}/owner/apps/${grant.id}/revoke`, { method: 'POST', headers: { cookie, origin: this.sim.url }, redirect: 'manual' });
      if (res.status !== 303) throw new Error(`revoke answered ${res.status}`);
    }
    return live.length;
  }

  /**
   * Lets the vehicle answer a command (simulated time moves past the
   * simulator's command delay) while the node's status polls run in fake
   * time, until `check` holds.
   */
  async vehicleAnswers(check: () => boolean, what: string, simAdvanceMs = 5000): Promise<void> {
    this.sim.world.clock.advance(simAdvanceMs);
    for (let i = 0; i < 40 && !check(); i++) {
      await this.clock.tickAsync(250);
      await realPause(10);
    }
    await until(check, what);
  }

  /** node.error is synchronous, output 2 is delivered a turn later: waits for both. */
  async errorsReach(id: string, n: number, what = `${n} error(s) on ${id}`): Promise<void> {
    await until(() => this.errors(id).length === n, what);
    await realPause(20);
  }

  /** Every node.status() call of one node, oldest first (the helper spies on Node.prototype). */
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

  /** Every node.error() call of one node (done(err) ends up here too): the first argument of each. */
  errors(id: string): unknown[] {
    const node = helper.getNode(id);
    const spy = node.error as unknown as sinon.SinonSpy;
    return spy
      .getCalls()
      .filter((c) => c.thisValue === node)
      .map((c) => c.args[0]);
  }

  /** Request counts at the simulator (keys of FORDCONNECT_V1_COUNTS). */
  count(key: 'api.vehicle.info' | 'api.vehicle.location' | 'api.total' | 'api.command.status' | `api.command.${string}`): number {
    return this.sim.world.counts.get(key);
  }

  ownedVehicles(ownerId = 'owner-1'): { id: string; nickName: string; engineType: string }[] {
    return this.sim.world.fleet.ownedBy(ownerId).map((v) => ({ id: v.id, nickName: v.spec.nickName, engineType: v.spec.engineType }));
  }
}
