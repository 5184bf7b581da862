import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import { commandRunner } from '../../src/lib/commands';
import type { SimOptions } from '../../src/sim';
import type { FordAccountNode } from '../../src/nodes/account-node';
import { consentAt, type ConsentOptions } from './consent';
import { describeLeaks, findLeaks, secretsOf, type KnownSecrets, type Leak, type SecretKind } from './leak-scan';
import { LeakWatch } from './leak-watch';
import { startRecordingSimulator, type RecordingSimulator, type SimExchange } from './recording-sim';
import { realPause, until, VehicleFlow } from './vehicle-flow';

export interface AdminAnswer {
  status: number;
  body: unknown;
  text: string;
  headers: Record<string, string>;
}

/**
 * VehicleFlow on a recording simulator, with a LeakWatch running from before
 * the flow loads until after it has closed, and every editor-endpoint answer
 * written down. `finish()` gathers the audit records (output 2 is watched
 * anyway; the accounts' rings, files and GET …/audit answers are read too),
 * closes everything and scans all of it against every secret the simulator
 * knows for the run.
 */
export class SecureFlow extends VehicleFlow {
  rec!: RecordingSimulator;
  readonly watch = new LeakWatch();
  /** Secrets the test itself typed in (a wrong client secret in a dialog, say). */
  readonly typedSecrets: [string, SecretKind][] = [];
  /** Credentials the test's flow itself puts into messages (see KnownSecrets.flowCarried). */
  readonly flowCarried = new Set<string>();
  private accountIds = new Set<string>();
  private auditFiles = new Map<string, string>();

  constructor(private readonly simOptions: Partial<SimOptions> = {}) {
    super();
  }

  override async start(): Promise<void> {
    this.rec = await startRecordingSimulator(this.simOptions);
    this.sim = this.rec;
    this.userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-security-'));
    helper.settings({ userDir: this.userDir });
    await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
    this.watch.start();
  }

  /** The audit file of an account, in the user dir (set it as the account's `auditFile`). */
  auditFileOf(accountId: string): string {
    const file = path.join(this.userDir, `audit-${accountId}.jsonl`);
    this.auditFiles.set(accountId, file);
    return file;
  }

  override async load(flow: Parameters<VehicleFlow['load']>[0], credentials?: Record<string, unknown>): Promise<void> {
    for (const n of flow) if (n.type === 'ford-account') this.accountIds.add(n.id);
    for (const c of Object.values(credentials ?? {})) {
      const secret = (c as { clientSecret?: unknown }).clientSecret;
      if (typeof secret === 'string') this.typedSecrets.push([secret, 'client secret']);
    }
    await super.load(flow, credentials);
  }

  /** An editor endpoint call through the test helper; the answer is captured for the scan. */
  async admin(method: 'GET' | 'POST', route: string, body?: unknown): Promise<AdminAnswer> {
    const agent = helper.request();
    const req = method === 'GET' ? agent.get(route) : agent.post(route).send((body ?? {}) as object);
    const res = await req;
    const answer: AdminAnswer = { status: res.status, body: res.body, text: res.text, headers: res.headers as Record<string, string> };
    this.watch.add('admin', `${method} ${route.split('?')[0]} → ${res.status}`, [res.text, res.headers]);
    return answer;
  }

  /** Editor: Authorize on one account; browser: sign in and consent; provider: back to the callback. Resolves with the callback's answer. */
  async authorizeAccount(accountId: string, consent: ConsentOptions = {}): Promise<AdminAnswer> {
    const start = await this.admin('POST', `/ford-connect/accounts/${accountId}/authorize`, {});
    if (start.status !== 200) throw new Error(`Authorize answered ${start.status}: ${start.text}`);
    const redirect = new URL(await consentAt((start.body as { url: string }).url, consent));
    return this.admin('GET', `/ford-connect/auth/callback${redirect.search}`);
  }

  override async authorize(tick: string[], owner: { email?: string } = {}): Promise<void> {
    const answer = await this.authorizeAccount('acc', { tick, ...owner });
    if (answer.status !== 200 || !/Connected/.test(answer.text)) throw new Error(`the callback answered ${answer.status}: ${answer.text}`);
  }

  accountOf(id: string): FordAccountNode['account'] {
    return (helper.getNode(id) as unknown as FordAccountNode | undefined)?.account;
  }

  /**
   * Lets time pass on both clocks until `check` holds: a simulated second per
   * round at the simulator (commands complete, the vehicle reports) and a
   * quarter of a fake second in Node-RED (the nodes' follow-up polls).
   */
  async settle(check: () => boolean, what: string, rounds = 80): Promise<void> {
    for (let i = 0; i < rounds && !check(); i++) {
      this.sim.world.clock.advance(1000);
      await this.clock.tickAsync(250);
      await realPause(5);
    }
    await until(check, what);
  }

  /**
   * Lets fake time pass a second at a time with real turns in between, so a
   * poll that falls due gets its answer before its own request timeout does.
   */
  async pass(ms: number): Promise<void> {
    for (let left = ms; left > 0; left -= 1000) {
      await this.clock.tickAsync(Math.min(1000, left));
      await realPause(2);
    }
  }

  /** Exchanges with the simulator since a mark (`rec.exchanges.length` taken before). */
  since(mark: number): SimExchange[] {
    return this.rec.since(mark);
  }

  /**
   * Reads every audit sink of every account (ring, file, GET …/audit), closes
   * the flow, the runtime and the simulator, stops watching, and returns the
   * leaks found (and the secrets they were looked for).
   */
  async finish(): Promise<{ leaks: Leak[]; secrets: KnownSecrets; report: string }> {
    try {
      for (const id of this.accountIds) {
        const account = this.accountOf(id);
        if (account) {
          await account.flushAudit();
          this.watch.add('audit', `audit ring of ${id}`, account.auditRing.list());
        }
        await this.admin('GET', `/ford-connect/accounts/${id}/audit`);
        await this.admin('GET', `/ford-connect/accounts/${id}`);
        const file = this.auditFiles.get(id);
        if (file && fs.existsSync(file)) this.watch.add('audit', `audit file of ${id}`, fs.readFileSync(file, 'utf8'));
      }
      // Everything else in the user dir is scanned too; the token store is where tokens belong (encrypted only under a credentialSecret).
      for (const file of listFiles(this.userDir)) {
        const name = path.relative(this.userDir, file);
        if (!/^ford-connect[/\\]tokens-[^/\\]+\.json$/.test(name)) this.watch.add('file', `user dir ${name}`, fs.readFileSync(file, 'utf8'));
      }
    } finally {
      await this.stop();
      this.watch.stop();
    }
    const secrets = secretsOf(this.rec, { flowCarried: this.flowCarried, credentials: [...this.typedSecrets, ...this.watch.verifiers.map((v): [string, SecretKind] => [v, 'PKCE verifier'])] });
    const leaks = findLeaks(this.watch.captured, secrets);
    if (this.watch.crashes.length > 0) throw new Error(`unhandled rejections while the flow ran: ${this.watch.crashes.map((c) => String(c)).join('; ')}`);
    return { leaks, secrets, report: describeLeaks(leaks) };
  }

  /** On a failed test: close everything, never scan (the failure is the news). */
  async abandon(): Promise<void> {
    try {
      await this.stop();
    } finally {
      if (this.watch.watching) this.watch.stop();
    }
  }
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

export interface Vehicles {
  truck: string;
  bev: string;
  phev: string;
  /** A vehicle of another owner (the fleet's van): outside every grant of owner-1. */
  foreign: string;
}

/** Owner-1's three cars by engine type, and a van of the fleet owner. */
export function vehiclesOf(f: VehicleFlow): Vehicles {
  const owned = f.ownedVehicles();
  const by = (type: string): string => {
    const v = owned.find((x) => x.engineType === type);
    if (!v) throw new Error(`no ${type} in the owner's fleet`);
    return v.id;
  };
  return { truck: by('ICE'), bev: by('BEV'), phev: by('PHEV'), foreign: f.ownedVehicles('owner-fleet')[0].id };
}

export interface SecureRun {
  f: SecureFlow;
  secrets: KnownSecrets;
}

/**
 * One mocha test on a SecureFlow: a fresh recording simulator and Node-RED,
 * watched from start to close; `body` drives the flow; then everything
 * captured (log lines, status, errors, messages, audit records, files,
 * answers, stdout/stderr) is scanned against every secret the simulator knows
 * for the run, and must hold none where it does not belong.
 */
export function secureIt(title: string, body: (f: SecureFlow, v: Vehicles) => Promise<void>, options: { sim?: Partial<SimOptions>; check?: (run: SecureRun) => void } = {}): void {
  it(title, async function () {
    commandRunner.reset();
    const f = new SecureFlow(options.sim);
    await f.start();
    try {
      await body(f, vehiclesOf(f));
    } catch (err) {
      await f.abandon();
      throw err;
    }
    const { leaks, report, secrets } = await f.finish();
    if (process.env.FORD_SECURITY_DEBUG) {
      const by: Record<string, number> = {};
      for (const c of f.watch.captured) by[c.source] = (by[c.source] ?? 0) + c.strings.length;
      const kinds: Record<string, number> = {};
      for (const k of secrets.credentials.values()) kinds[k] = (kinds[k] ?? 0) + 1;
      console.error(JSON.stringify({ title, captured: by, credentials: kinds, vins: secrets.vins.size, coordinates: secrets.coordinates.size, exchanges: f.rec.exchanges.length }));
    }
    expect(leaks.length, `secrets that leaked:\n${report}`).to.equal(0);
    // The scan had something to find, and something to look in.
    expect(secrets.credentials.size, 'credentials known to the simulator').to.be.at.least(2);
    expect(secrets.vins.size, 'VINs').to.be.greaterThan(0);
    expect(f.watch.captured.length, 'captured lines').to.be.greaterThan(10);
    options.check?.({ f, secrets });
  });
}
