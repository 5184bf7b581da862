import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareUserDir } from '../../src/cli/start';
import { parseConsentPage, signIn } from './oauth-flow';
import { freePort } from './ports';

/** The checkout: build/test/helpers/ → the project root (where package.json and dist/ are). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface RunningNodeRed {
  url: string;
  port: number;
  userDir: string;
  /** Everything Node-RED printed so far, for failure messages. */
  output(): string;
  /** Stops Node-RED (SIGTERM, then SIGKILL) and removes its user dir. */
  stop(): Promise<void>;
}

/** Polls `probe` until it gives a value; a probe that throws counts as "not yet". `fatal` ends the wait early. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, options: { timeoutMs?: number; detail?: () => string; fatal?: () => string | undefined } = {}): Promise<T> {
  const until = Date.now() + (options.timeoutMs ?? 20_000);
  const detail = () => (options.detail?.() ? `\n${options.detail()}` : '');
  for (;;) {
    const fatal = options.fatal?.();
    if (fatal) throw new Error(`${fatal} while waiting for ${what}${detail()}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${detail()}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/**
 * A Node-RED of its own in a temporary user dir, with this checkout linked in
 * as an installed module the way `npm start` does it, talking to `simUrl`.
 * Resolves once the kit's node types are registered. `port`: one chosen
 * beforehand (say, for a redirect URI the simulator must know); default a free one.
 */
export async function startNodeRed(simUrl: string, options: { port?: number } = {}): Promise<RunningNodeRed> {
  if (!fs.existsSync(path.join(PROJECT_ROOT, 'dist', 'nodes', 'ford-account.js'))) throw new Error('dist/ has no nodes: run `npm run build` first');
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-editor-'));
  const port = options.port ?? (await freePort());
  prepareUserDir(userDir, port, PROJECT_ROOT);
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--port', String(port), '--settings', path.join(userDir, 'settings.js')], {
    cwd: userDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORD_SIM_URL: simUrl, PORT: String(port) },
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(userDir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        const res = await fetch(`${url}/nodes`, { headers: { Accept: 'application/json' } });
        if (!res.ok) return undefined;
        const list = (await res.json()) as { module: string; types: string[]; enabled: boolean }[];
        return list.some((n) => n.module === 'node-red-contrib-ford-connect' && n.types.includes('ford-account') && n.enabled) ? true : undefined;
      },
      'Node-RED with the kit loaded',
      { detail: () => output, fatal: () => (child.exitCode !== null || child.signalCode !== null ? `Node-RED exited (${child.exitCode ?? child.signalCode})` : undefined) },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, userDir, output: () => output, stop };
}

/** Replaces every flow (a full deploy, as the editor's Deploy button does). */
export async function deployFlows(url: string, flows: object[]): Promise<void> {
  const res = await fetch(`${url}/flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flows),
  });
  if (res.status !== 204 && res.status !== 200) throw new Error(`deploy failed: HTTP ${res.status} ${await res.text()}`);
}

/**
 * What an owner does after pressing Authorize: the account's authorize call,
 * sign-in and consent at the simulator ticking only `grant`, and the redirect
 * back to Node-RED's callback. Resolves when the callback says "Connected".
 */
export async function authorizeAccount(nodeRedUrl: string, accountId: string, simUrl: string, grant: string[]): Promise<void> {
  // POST /flows answers before the new nodes have started: Authorize needs the running account.
  await waitFor(async () => {
    const res = await fetch(`${nodeRedUrl}/ford-connect/accounts/${encodeURIComponent(accountId)}`);
    return ((await res.json()) as { deployed?: boolean }).deployed ? true : undefined;
  }, `ford-account ${accountId} to start`, { timeoutMs: 10_000 });
  const started = await fetch(`${nodeRedUrl}/ford-connect/accounts/${encodeURIComponent(accountId)}/authorize`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  const { url, error } = (await started.json()) as { url?: string; error?: string };
  if (!url) throw new Error(`Authorize gave no consent URL: HTTP ${started.status} ${error ?? ''}`);
  const cookie = await signIn(simUrl);
  const page = await fetch(url, { headers: { cookie }, redirect: 'manual' });
  if (page.status !== 200) throw new Error(`the consent page did not open: HTTP ${page.status}`);
  const consent = parseConsentPage(await page.text());
  const form = new URLSearchParams({ consent_id: consent.consentId, decision: 'allow' });
  for (const s of grant) form.append('scope', s);
  for (const v of consent.vehicles) form.append('vehicle', v.value);
  const answer = await fetch(`${simUrl}/oauth2/v2.0/authorize`, { method: 'POST', headers: { cookie }, body: form, redirect: 'manual' });
  const location = answer.headers.get('location');
  if (!location) throw new Error(`the consent answer did not redirect: HTTP ${answer.status}`);
  const callback = await fetch(new URL(location, simUrl));
  const text = await callback.text();
  if (callback.status !== 200) throw new Error(`Node-RED's callback refused: HTTP ${callback.status} ${text}`);
}
