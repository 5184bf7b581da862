import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { consentAt } from './consent';
import { freePort } from './ports';

/**
 * A real Node-RED in a child process (`node-red/red.js`), for the example-flow
 * suites: its own temporary user dir with this checkout linked in as an
 * installed module (as `npm start` does), the simulator's URL in its
 * settings, and a tap on the editor's comms websocket, which carries what the
 * editor shows: debug sidebar messages, node statuses and runtime events.
 */

/** build/test/helpers/ → the checkout (package.json, dist/, examples/). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');
const PACKAGE_NAME = 'node-red-contrib-ford-connect';

export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  wires?: string[][];
  [key: string]: unknown;
}

/** One message of the debug sidebar, decoded. */
export interface DebugMessage {
  /** The debug node, or the node that logged a warning / error. */
  id: string;
  name?: string;
  topic?: string;
  /** The value shown: the configured property, decoded from the sidebar's encoding. */
  value: unknown;
  /** Set on node.warn (30) and node.error (20) messages. */
  level?: number;
  seq: number;
}

export interface NodeStatusMessage {
  id: string;
  fill?: string;
  shape?: string;
  text?: string;
  seq: number;
}

export interface RuntimeEvent {
  topic: string;
  data: Record<string, unknown>;
  seq: number;
}

const WAIT_STEP_MS = 50;

/** Polls `probe` until it gives a value (a probe that throws counts as "not yet"). */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10_000, detail?: () => string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = await probe();
    } catch {
      value = undefined;
    }
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
  }
}

function decodeDebug(data: Record<string, unknown>): unknown {
  const format = typeof data.format === 'string' ? data.format : '';
  const raw = data.msg;
  if (typeof raw !== 'string') return raw;
  if (format.startsWith('Object') || format.startsWith('array')) {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  if (format === 'number') return Number(raw);
  if (format === 'boolean') return raw === 'true';
  if (format === 'null') return null;
  if (format === 'undefined') return undefined;
  return raw;
}

/** What the editor would see over /comms. */
export class CommsTap {
  readonly debug: DebugMessage[] = [];
  readonly statuses: NodeStatusMessage[] = [];
  readonly events: RuntimeEvent[] = [];
  private seq = 0;
  private ws?: WebSocket;

  async connect(editorUrl: string): Promise<void> {
    const ws = new WebSocket(`${editorUrl.replace(/^http/, 'ws')}/comms`);
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', (data: WebSocket.RawData) => this.receive(String(data)));
    // Without adminAuth every connection gets everything; subscribing also replays retained events.
    ws.send(JSON.stringify({ subscribe: 'notification/#' }));
    ws.send(JSON.stringify({ subscribe: 'status/#' }));
    ws.send(JSON.stringify({ subscribe: 'debug' }));
    // The replay of the retained runtime state: after it, every runtime event is a new one.
    await waitFor(() => this.events.some((e) => e.topic === 'notification/runtime-state'), 'the retained runtime state over comms', 5000);
  }

  /** A sequence number: everything received from now on has a larger one. */
  mark(): number {
    return this.seq;
  }

  private receive(text: string): void {
    let batch: unknown;
    try {
      batch = JSON.parse(text);
    } catch {
      return;
    }
    for (const item of Array.isArray(batch) ? batch : [batch]) {
      const { topic, data } = (item ?? {}) as { topic?: string; data?: Record<string, unknown> };
      if (typeof topic !== 'string' || !data) continue;
      const seq = ++this.seq;
      if (topic === 'debug') {
        this.debug.push({ id: String(data.id ?? ''), name: data.name as string | undefined, topic: data.topic as string | undefined, value: decodeDebug(data), level: data.level as number | undefined, seq });
      } else if (topic.startsWith('status/')) {
        this.statuses.push({ id: topic.slice('status/'.length), fill: data.fill as string | undefined, shape: data.shape as string | undefined, text: data.text as string | undefined, seq });
      } else {
        this.events.push({ topic, data, seq });
      }
    }
  }

  /** Debug sidebar values of one debug node (or warnings of one node), after `since`. */
  debugOf(id: string, since = 0): DebugMessage[] {
    return this.debug.filter((m) => m.id === id && m.seq > since);
  }

  statusOf(id: string, since = 0): NodeStatusMessage | undefined {
    return this.statuses.filter((s) => s.id === id && s.seq > since).at(-1);
  }

  close(): void {
    this.ws?.terminate();
  }
}

export interface NodeRedOptions {
  simUrl: string;
  /** Extra environment for the Node-RED process. */
  env?: Record<string, string>;
}

export class RunningNodeRed {
  readonly comms = new CommsTap();
  private log = '';

  constructor(
    readonly url: string,
    readonly port: number,
    readonly userDir: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
  }

  /** Everything Node-RED printed so far. */
  output(): string {
    return this.log;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async json<T>(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${this.url}${route}`, {
      method,
      headers: { Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route}: HTTP ${res.status} ${text.slice(0, 300)}`);
    // Some admin routes (POST /inject/:id) answer plain text.
    if (!(res.headers.get('content-type') ?? '').includes('json')) return text as T;
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Every node type the runtime has registered (GET /nodes), by module. */
  async nodeTypes(): Promise<Map<string, string>> {
    const sets = await this.json<{ module: string; types: string[]; enabled: boolean }[]>('GET', '/nodes');
    const types = new Map<string, string>();
    for (const set of sets) if (set.enabled) for (const t of set.types) types.set(t, set.module);
    return types;
  }

  /**
   * A full deploy, as the editor's Deploy button does; resolves with the
   * runtime-state event that followed it (`state: "start"`, or an `error`
   * such as `missing-types`).
   */
  async deploy(nodes: FlowNode[]): Promise<Record<string, unknown>> {
    const since = this.comms.mark();
    await this.json('POST', '/flows', nodes, { 'Node-RED-Deployment-Type': 'full' });
    const event = await waitFor(
      () => this.comms.events.find((e) => e.seq > since && e.topic === 'notification/runtime-state' && (e.data.state === 'start' || e.data.error !== undefined)),
      'the flows to start after a deploy',
      10_000,
      () => this.log.slice(-2000),
    );
    return event.data;
  }

  /** Presses an inject node's button. */
  async inject(id: string): Promise<void> {
    await this.json('POST', `/inject/${id}`);
  }

  /** Editor: Authorize on a deployed ford-account; browser: consent as the demo owner, ticking `tick`; provider: back to the callback. */
  async authorize(accountId: string, tick: string[]): Promise<void> {
    await waitFor(async () => (await this.json<{ deployed: boolean }>('GET', `/ford-connect/accounts/${accountId}`)).deployed, 'the ford-account node to be deployed');
    const started = await this.json<{ url: string }>('POST', `/ford-connect/accounts/${accountId}/authorize`, {});
    const redirect = new URL(await consentAt(started.url, { tick }));
    const callback = await fetch(`${this.url}/ford-connect/auth/callback${redirect.search}`);
    const page = await callback.text();
    if (callback.status !== 200 || !page.includes('Connected')) throw new Error(`the authorization callback answered HTTP ${callback.status}: ${page.slice(0, 300)}`);
  }

  /** Waits until the deployed account says it is authorized. */
  async accountAuthorized(accountId: string): Promise<void> {
    await waitFor(async () => {
      const s = await this.json<{ deployed: boolean; state: string }>('GET', `/ford-connect/accounts/${accountId}`);
      return s.deployed && s.state === 'authorized';
    }, `the ford-account ${accountId} to be authorized`);
  }

  /** SIGTERM (Node-RED closes its nodes), SIGKILL after 3 s; then the user dir goes. */
  async stop(): Promise<void> {
    this.comms.close();
    if (this.running) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}

/** Links this checkout into `userDir` as an installed module, the way `npm start` prepares its user dir. */
function linkKit(userDir: string): void {
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'ford-connect-test', version: '0.0.0', private: true, dependencies: { [PACKAGE_NAME]: `file:${PROJECT_ROOT}` } }, null, 2));
  fs.symlinkSync(PROJECT_ROOT, path.join(userDir, 'node_modules', PACKAGE_NAME), 'dir');
}

/**
 * Starts Node-RED on a free loopback port; resolves once the kit's node types
 * are registered and the comms tap is connected. Packages installed in the
 * checkout's node_modules (node-red-contrib-home-assistant-websocket) load
 * too: Node-RED scans the node_modules above its own install.
 */
export async function startNodeRed(options: NodeRedOptions): Promise<RunningNodeRed> {
  if (!fs.existsSync(path.join(PROJECT_ROOT, 'dist', 'nodes', 'ford-account.js'))) throw new Error('dist/ has no nodes: run `npm run build` first');
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-examples-'));
  const port = await freePort();
  linkKit(userDir);
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: 'example-flows-test',
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false }, tours: false },
    telemetry: { enabled: false },
    // Relative file names (the audit example's ford-audit.jsonl) land in the user dir.
    fileWorkingDirectory: userDir,
    debugMaxLength: 100_000,
    fordConnect: { simulatorUrl: options.simUrl },
  };
  const settingsFile = path.join(userDir, 'settings.js');
  fs.writeFileSync(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  const child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--port', String(port), '--settings', settingsFile], {
    cwd: userDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORD_SIM_URL: options.simUrl, ...options.env },
  });
  const red = new RunningNodeRed(`http://127.0.0.1:${port}`, port, userDir, child);
  try {
    await waitFor(
      async () => {
        if (!red.running) throw new Error('exited');
        const types = await red.nodeTypes();
        return types.get('ford-account') === PACKAGE_NAME ? true : undefined;
      },
      'Node-RED with the kit loaded',
      20_000,
      () => red.output(),
    );
    if (!red.running) throw new Error(`Node-RED exited:\n${red.output()}`);
    await red.comms.connect(red.url);
  } catch (err) {
    await red.stop();
    throw err;
  }
  return red;
}

/** The example files under examples/flows/, parsed, by file name. */
export function readExampleFiles(): Map<string, FlowNode[]> {
  const dir = path.join(PROJECT_ROOT, 'examples', 'flows');
  const files = new Map<string, FlowNode[]>();
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    files.set(name, JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as FlowNode[]);
  }
  return files;
}

/** The example whose file name starts with `prefix` (e.g. "01 "). */
export function example(prefix: string): { name: string; nodes: FlowNode[] } {
  for (const [name, nodes] of readExampleFiles()) if (name.startsWith(prefix)) return { name, nodes };
  throw new Error(`no example file starts with "${prefix}"`);
}

export const VEHICLE_NODE_TYPES = ['ford-status', 'ford-location', 'ford-lock', 'ford-remote-start', 'ford-horn-lights', 'ford-charge'];

/**
 * An example as a test deploys it: the owner's vehicle picked in every Ford
 * node, the client credentials entered in the account (never in the file),
 * and `patch` applied to the nodes it names.
 */
export function prepared(nodes: FlowNode[], vehicleId: string, patch: Record<string, Record<string, unknown>> = {}): FlowNode[] {
  return nodes.map((n) => {
    const copy: FlowNode = structuredClone(n);
    if (VEHICLE_NODE_TYPES.includes(copy.type) && !copy.vehicleId) copy.vehicleId = vehicleId;
    if (copy.type === 'ford-account') copy.credentials = { clientId: 'demo-client', clientSecret: 'demo-secret' };
    Object.assign(copy, patch[copy.id] ?? {});
    return copy;
  });
}
