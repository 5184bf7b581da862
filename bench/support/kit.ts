import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { FordAccount, type AccountEnvironment } from '../../src/lib/account';
import { FORD_APPLICATION_ID } from '../../src/lib/api/presets';
import type { Scope } from '../../src/lib/scopes';
import { consentAt } from '../../src/sim/owner/demo-browser';

/** What every benchmark shares on the kit's side: accounts authorized the way an owner does it, and a bare HTTP client. */

export const REDIRECT = 'http://127.0.0.1:1880/ford-connect/auth/callback';
export const DEMO_CLIENT = { clientId: 'demo-client', clientSecret: 'demo-secret' };
export const READ_SCOPES: Scope[] = ['read:status', 'read:location'];

const dirs: string[] = [];

/** A token directory of its own, removed by {@link cleanUp}. */
export function tempDir(prefix = 'ford-bench-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function cleanUp(): void {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A real FordAccount on the simulator, authorized by the owner over the
 * consent page (authorization code + PKCE), for the given vehicles.
 */
export async function authorizedAccount(simUrl: string, owner: { email: string }, scopes: Scope[], vehicles: string[], env: Partial<AccountEnvironment> = {}): Promise<FordAccount> {
  const id = `bench-${Math.random().toString(16).slice(2, 10)}`;
  const account = new FordAccount(
    { id, name: id, preset: 'simulator', apiUrl: simUrl, grant: 'authorization_code', redirectUri: REDIRECT, scopes: [...scopes], ...DEMO_CLIENT },
    { tokenDir: tempDir(), simulatorUrl: simUrl, ...env },
  );
  const pending = account.tokens.beginAuthorization();
  const redirect = new URL(await consentAt(pending.url, { email: owner.email, tick: [...scopes], vehicles }));
  const code = redirect.searchParams.get('code');
  if (!code || redirect.searchParams.get('state') !== pending.state) throw new Error(`consent did not give a code: ${redirect.href}`);
  await account.tokens.completeAuthorization(code, pending.codeVerifier);
  account.noticeState();
  if (account.state !== 'authorized') throw new Error('the account did not become authorized');
  return account;
}

export const FLEET_CLIENT = { clientId: 'fleet-client', clientSecret: 'fleet-secret' };
/** The simulator's fleet owner: the fleet client's grant reaches every vehicle it owns. */
export const FLEET_OWNER = 'owner-fleet';

/**
 * A real FordAccount of a fleet app (client credentials): no consent page,
 * every vehicle of the fleet owner. The way a fleet of hundreds is connected
 * (no owner ticks a thousand checkboxes on a consent page).
 */
export async function fleetAccount(simUrl: string, scopes: Scope[], env: Partial<AccountEnvironment> = {}): Promise<FordAccount> {
  const id = `bench-fleet-${Math.random().toString(16).slice(2, 10)}`;
  const account = new FordAccount(
    { id, name: id, preset: 'simulator', apiUrl: simUrl, grant: 'client_credentials', redirectUri: REDIRECT, scopes: [...scopes], ...FLEET_CLIENT },
    { tokenDir: tempDir(), simulatorUrl: simUrl, ...env },
  );
  await account.tokens.authorizeClientCredentials();
  account.noticeState();
  if (account.state !== 'authorized') throw new Error('the fleet account did not become authorized');
  return account;
}

/** A keep-alive agent of our own, so a baseline never shares sockets with the kit. */
export function bareAgent(): http.Agent {
  return new http.Agent({ keepAlive: true });
}

export interface BareAnswer {
  status: number;
  body: string;
}

/** One request over node:http (its timers are not the global ones, so it runs under sinon's fake timers too). */
export function bareRequest(agent: http.Agent, url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<BareAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** FordConnect v1's gateway headers, as the kit sends them. */
export function fordHeaders(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}`, Accept: 'application/json', 'Application-Id': FORD_APPLICATION_ID, 'api-version': '2020-06-01' };
}

const realSetTimeout = globalThis.setTimeout;
const realSetImmediate = globalThis.setImmediate;

/** Real turns of the event loop until `check` holds (works under fake timers). */
export async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const start = performance.now();
  for (let i = 0; !check(); i++) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await (i % 20 === 19 ? new Promise((r) => realSetTimeout(r, 1)) : new Promise((r) => realSetImmediate(r)));
  }
}

export function realSleep(ms: number): Promise<void> {
  return new Promise((r) => realSetTimeout(r, ms));
}
