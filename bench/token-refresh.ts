import fs from 'node:fs';
import { FordAccount } from '../src/lib/account';
import { TokenStore } from '../src/lib/oauth/token-store';
import { authorizedAccount, bareAgent, bareRequest, DEMO_CLIENT, fordHeaders, tempDir } from './support/kit';
import { fmt, type BenchResult } from './support/report';
import { startSimChild, type SimChild } from './support/sim-child';

/**
 * 3. Refresh under pressure: 100 requests at once meet an expired access
 * token. The kit's TokenManager (single-flight refresh) against a naive
 * client in which each request refreshes on its own. The floor is 1 refresh.
 * Then a redeploy: the old and the new FordAccount of one token file meet
 * the expired token at once, against two managers each holding its own copy
 * of the tokens. Refresh calls counted at the simulator's token endpoint.
 */

const REQUESTS = 100;
const PAST_EXPIRY_MS = 1300_000; // access tokens live 1200 s

interface Outcome {
  refreshes: number;
  ok: number;
  apiCalls: number;
  ms: number;
  grantAlive: boolean;
}

async function kitCase(sim: SimChild, ownerId: string, kitKnows: boolean): Promise<Outcome> {
  const owner = await sim.addOwner(ownerId);
  const [vehicle] = await sim.addVehicles(owner.id, 1);
  let skew = 0;
  const account = await authorizedAccount(sim.url, owner, ['read:status'], [vehicle], { now: () => Date.now() + skew });
  await sim.advance(PAST_EXPIRY_MS);
  // Proactive: the kit's clock also says the token is past its time. Reactive: only the API knows (a 401).
  if (kitKnows) skew = PAST_EXPIRY_MS;
  const before = await sim.counts();
  const api = account.vehicleApi();
  const t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: REQUESTS }, () => api.getStatus(vehicle)));
  const ms = performance.now() - t0;
  const after = await sim.counts();
  const delta = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0);
  return { refreshes: delta('oauth.token.refresh_token'), ok: results.filter((r) => r.status === 'fulfilled').length, apiCalls: delta('api.vehicle.info'), ms, grantAlive: (await sim.liveGrants(owner.id, DEMO_CLIENT.clientId)) > 0 };
}

async function naiveCase(sim: SimChild): Promise<Outcome> {
  const owner = await sim.addOwner('bench-refresh-naive');
  const [vehicle] = await sim.addVehicles(owner.id, 1);
  const account = await authorizedAccount(sim.url, owner, ['read:status'], [vehicle]);
  const tokens = account.tokens.currentTokens();
  if (!tokens?.refreshToken) throw new Error('no refresh token');
  await sim.advance(PAST_EXPIRY_MS);
  const agent = bareAgent();
  const info = `${account.endpoints.apiUrl}/v3/vehicles/${vehicle}`;
  const before = await sim.counts();
  // Each request on its own: call, 401, refresh with the refresh token it knows, call again.
  const one = async (): Promise<boolean> => {
    let r = await bareRequest(agent, info, { headers: fordHeaders(tokens.accessToken) });
    if (r.status !== 401) return r.status === 200;
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken as string, client_id: DEMO_CLIENT.clientId, client_secret: DEMO_CLIENT.clientSecret });
    const t = await bareRequest(agent, account.endpoints.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' }, body: form.toString() });
    if (t.status !== 200) return false;
    r = await bareRequest(agent, info, { headers: fordHeaders((JSON.parse(t.body) as { access_token: string }).access_token) });
    return r.status === 200;
  };
  const t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: REQUESTS }, one));
  const ms = performance.now() - t0;
  const after = await sim.counts();
  agent.destroy();
  const delta = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0);
  return { refreshes: delta('oauth.token.refresh_token'), ok: results.filter((r) => r.status === 'fulfilled' && r.value).length, apiCalls: delta('api.vehicle.info'), ms, grantAlive: (await sim.liveGrants(owner.id, DEMO_CLIENT.clientId)) > 0 };
}

/**
 * A redeploy: the old FordAccount (its work still under way) and the new one
 * each send half the requests. `sharedFile`: both read the one token file, as
 * the kit runs; else each has its own copy of the same tokens.
 */
async function redeployCase(sim: SimChild, ownerId: string, sharedFile: boolean): Promise<Outcome> {
  const owner = await sim.addOwner(ownerId);
  const [vehicle] = await sim.addVehicles(owner.id, 1);
  const dir = tempDir();
  const old = await authorizedAccount(sim.url, owner, ['read:status'], [vehicle], { tokenDir: dir });
  const otherDir = sharedFile ? dir : tempDir();
  if (!sharedFile) fs.copyFileSync(new TokenStore(dir, old.config.id).file, new TokenStore(otherDir, old.config.id).file);
  const redeployed = new FordAccount(old.config, { tokenDir: otherDir, simulatorUrl: sim.url });
  await sim.advance(PAST_EXPIRY_MS);
  const before = await sim.counts();
  const t0 = performance.now();
  const apis = [old.vehicleApi(), redeployed.vehicleApi()];
  const results = await Promise.allSettled(Array.from({ length: REQUESTS }, (_, i) => apis[i % 2].getStatus(vehicle)));
  const ms = performance.now() - t0;
  const after = await sim.counts();
  const delta = (k: string): number => (after[k] ?? 0) - (before[k] ?? 0);
  return { refreshes: delta('oauth.token.refresh_token'), ok: results.filter((r) => r.status === 'fulfilled').length, apiCalls: delta('api.vehicle.info'), ms, grantAlive: (await sim.liveGrants(owner.id, DEMO_CLIENT.clientId)) > 0 };
}

const describe = (o: Outcome): string => `${o.refreshes} refresh(es); ${o.ok}/${REQUESTS} answered; ${o.apiCalls} API calls; ${fmt(o.ms)} ms; grant ${o.grantAlive ? 'alive' : 'REVOKED'}`;

export async function tokenRefreshBench(): Promise<BenchResult> {
  const sim = await startSimChild({ timeScale: 1e-6 });
  try {
    const proactive = await kitCase(sim, 'bench-refresh-proactive', true);
    const reactive = await kitCase(sim, 'bench-refresh-reactive', false);
    const naive = await naiveCase(sim);
    const redeployShared = await redeployCase(sim, 'bench-refresh-redeploy', true);
    const redeployApart = await redeployCase(sim, 'bench-refresh-redeploy-apart', false);
    return {
      title: 'Refresh under pressure: 100 requests meet an expired token',
      setup: `${REQUESTS} concurrent status reads through one account's API client (real FordAccount + TokenManager) after the simulator's clock passed the access token's expiry; the naive baseline sends the same ${REQUESTS} requests from a client in which each request refreshes on its own after its 401 (with the refresh token it holds). Refresh-token grants counted at the simulator's token endpoint; the simulator rotates refresh tokens and treats a replayed one as theft (RFC 9700), as Ford does.`,
      figures: [
        { metric: 'refresh calls, expiry known to the kit (proactive refresh)', value: describe(proactive), baseline: describe(naive), goal: `1 refresh, ${REQUESTS}/${REQUESTS} answered` },
        { metric: 'refresh calls, expiry known only to the API (401, then refresh)', value: describe(reactive), baseline: 'as above (the naive client refreshes after its 401)', goal: `1 refresh, ${REQUESTS}/${REQUESTS} answered, ${2 * REQUESTS} API calls` },
        {
          metric: 'refresh calls after a redeploy: old and new account of one token file, half the requests each (401, then refresh)',
          value: describe(redeployShared),
          baseline: `${describe(redeployApart)} (two managers, each with its own copy of the tokens)`,
          goal: `1 refresh, ${REQUESTS}/${REQUESTS} answered, grant alive`,
        },
      ],
      notes: [`Naive: ${naive.refreshes} refreshes for ${REQUESTS} requests; all but the first present a rotated refresh token, which the simulator takes for a replay and revokes the grant — the owner must authorize again.`],
    };
  } finally {
    await sim.close();
  }
}
