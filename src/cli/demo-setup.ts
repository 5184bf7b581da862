import { consentAt } from '../sim/owner/demo-browser';
import { DEMO_ACCOUNT_ID, demoFlows, readExamples, type FlowNode } from './demo-flows';

/**
 * What `npm start` does in the running Node-RED through its admin API, as an
 * owner would in the editor: deploy the example flows on a first start, then
 * press Authorize on the demo account and answer the simulator's consent page.
 */

type Flavour = 'fordconnect-v1' | 'fcon-query';

export interface DemoSetupOptions {
  editorUrl: string;
  examplesDir: string;
  /** The simulator's id of the demo vehicle (its consent pages use it). */
  vehicleId: string;
  /** The id flows use for it on each API (FordConnect Query's stands in for the VIN). */
  flowVehicleIds: Record<Flavour, string>;
  editorPort: number;
  mqttPort?: number;
  /** `fcon-query`: the demo account talks to the simulator's FordConnect Query, as a real Ford account would today. */
  apiFlavour: Flavour;
  clientId: string;
  clientSecret: string;
}

export interface DemoSetupResult {
  deployed: string[];
  skipped: { name: string; missing: string[] }[];
  /** False when the user dir already had flows (a second start keeps them). */
  freshFlows: boolean;
  /** The scopes the demo owner granted, or undefined when the flows have no demo account. */
  granted?: string[];
}

async function json<T>(res: Response, what: string): Promise<T> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function waitForEditor(editorUrl: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${editorUrl}/settings`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > until) throw new Error(`Node-RED did not answer on ${editorUrl} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function setUpDemo(options: DemoSetupOptions): Promise<DemoSetupResult> {
  const { editorUrl } = options;
  const flows = await json<FlowNode[]>(await fetch(`${editorUrl}/flows`, { headers: { Accept: 'application/json' } }), 'GET /flows');
  const result: DemoSetupResult = { deployed: [], skipped: [], freshFlows: flows.length === 0 };
  let account = flows.find((n) => n.id === DEMO_ACCOUNT_ID);
  if (flows.length === 0) {
    const sets = await json<{ module: string; types: string[]; enabled: boolean }[]>(await fetch(`${editorUrl}/nodes`, { headers: { Accept: 'application/json' } }), 'GET /nodes');
    // Only Node-RED's own nodes and this kit: an example for another package's server (Home Assistant) waits for the owner.
    const knownTypes = new Set(sets.filter((s) => s.enabled && (s.module === 'node-red' || s.module === 'node-red-contrib-ford-connect')).flatMap((s) => s.types));
    const demo = demoFlows(readExamples(options.examplesDir), { knownTypes, vehicleId: options.flowVehicleIds[options.apiFlavour], editorPort: options.editorPort, mqttPort: options.mqttPort, apiFlavour: options.apiFlavour });
    result.deployed = demo.deployed;
    result.skipped = demo.skipped;
    account = demo.nodes.find((n) => n.id === DEMO_ACCOUNT_ID);
    // Credentials travel with the deploy, never in the example files.
    const body = demo.nodes.map((n) => (n.id === DEMO_ACCOUNT_ID ? { ...n, credentials: { clientId: options.clientId, clientSecret: options.clientSecret } } : n));
    const res = await fetch(`${editorUrl}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(body) });
    await json<unknown>(res, 'deploying the example flows');
  } else if (account && account.preset === 'simulator' && (account.apiFlavour ?? 'fordconnect-v1') !== options.apiFlavour) {
    // A later start with another --api: switch the demo account, keep everything else.
    const from = options.flowVehicleIds[(account.apiFlavour as Flavour | undefined) ?? 'fordconnect-v1'];
    const to = options.flowVehicleIds[options.apiFlavour];
    account = { ...account, apiFlavour: options.apiFlavour };
    // The same car has another id on the other API: the demo's nodes follow it.
    const patched = flows.map((n) => (n.id === DEMO_ACCOUNT_ID ? (account as FlowNode) : n.vehicleId === from && n.account === DEMO_ACCOUNT_ID ? { ...n, vehicleId: to } : n));
    await json<unknown>(await fetch(`${editorUrl}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(patched) }), 'switching the demo account');
  }
  if (account && account.preset === 'simulator') result.granted = await connectDemoAccount(editorUrl, Array.isArray(account.scopes) ? (account.scopes as string[]) : [], options.vehicleId);
  return result;
}

/** Authorize, consent as the demo owner with every scope the account asks for, and land on the callback. */
async function connectDemoAccount(editorUrl: string, scopes: string[], vehicleId: string): Promise<string[]> {
  const base = `${editorUrl}/ford-connect/accounts/${DEMO_ACCOUNT_ID}`;
  // The account node starts a moment after the deploy.
  const until = Date.now() + 15_000;
  const deployed = (): Promise<boolean> =>
    fetch(base).then(
      async (r) => r.ok && ((await r.json()) as { deployed?: boolean }).deployed === true,
      () => false,
    );
  while (!(await deployed())) {
    if (Date.now() > until) throw new Error('the demo ford-account did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  const started = await json<{ url: string }>(await fetch(`${base}/authorize`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }), 'Authorize');
  // FordConnect Query's consent asks for one vehicle and data categories instead of scopes: the demo shares them all.
  const redirect = new URL(await consentAt(started.url, { tick: scopes, vehicles: [vehicleId], categories: ['status', 'location', 'evData', 'health'] }));
  const callback = await fetch(`${editorUrl}/ford-connect/auth/callback${redirect.search}`);
  if (!callback.ok) throw new Error(`the authorization callback answered HTTP ${callback.status}`);
  const status = await json<{ scopes?: string[]; grantedScopes?: string[] }>(await fetch(base), 'the account');
  return status.grantedScopes ?? status.scopes ?? [];
}
