import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import sinon from 'sinon';
import helper from 'node-red-node-test-helper';
import type { RunningSimulator } from '../../src/sim';
import { withSimulator } from '../helpers/sim';
import { consentAt } from '../helpers/consent';
import { signIn } from '../helpers/oauth-flow';
import type { FordAccountNode } from '../../src/nodes/account-node';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const accountNode = require('../../src/nodes/ford-account');

helper.init(require.resolve('node-red'));

const REDIRECT = 'http://127.0.0.1:1880/ford-connect/auth/callback';

interface Flow {
  id: string;
  type: string;
  [key: string]: unknown;
}

describe('ford-account node (against the simulator)', function () {
  let sim: RunningSimulator;
  let userDir: string;

  before(async () => {
    sim = await withSimulator();
  });
  after(async () => {
    await sim.close();
  });
  beforeEach((done) => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-account-'));
    helper.settings({ userDir });
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  function account(extra: Record<string, unknown> = {}): Flow {
    return { id: 'acc', type: 'ford-account', name: 'My Ford', preset: 'simulator', apiUrl: sim.url, grant: 'authorization_code', redirectUri: REDIRECT, scopes: ['read:status', 'command:lock'], ...extra };
  }
  const demoCredentials = { acc: { clientId: 'demo-client', clientSecret: 'demo-secret' } };

  async function load(flow: Flow[] = [account()], credentials: Record<string, unknown> = demoCredentials): Promise<FordAccountNode> {
    await helper.load(accountNode, flow, credentials);
    return helper.getNode('acc') as unknown as FordAccountNode;
  }

  /** Editor: Authorize; browser: consent; provider: redirect back to the callback. */
  async function authorizeThroughCallback(tick?: string[]): Promise<void> {
    const start = await helper.request().post('/ford-connect/accounts/acc/authorize').send({}).expect(200);
    const redirect = await consentAt(start.body.url as string, { tick });
    const callback = new URL(redirect);
    expect(`${callback.origin}${callback.pathname}`).to.equal(REDIRECT);
    await helper.request().get(`/ford-connect/auth/callback${callback.search}`).expect(200).expect(/Connected/);
  }

  /** The owner signs in to the simulator and presses "Revoke now" on every live demo-app connection. */
  async function revokeOnConnectedAppsPage(): Promise<void> {
    const cookie = await signIn(sim.url);
    const live = [...sim.world.store.grants.values()].filter((g) => g.clientId === 'demo-client' && g.ownerId === 'owner-1' && g.revokedAt === undefined);
    expect(live.length).to.be.greaterThan(0);
    for (const grant of live) {
      const res = await fetch(`${sim.url}/owner/apps/${grant.id}/revoke`, { method: 'POST', headers: { cookie, origin: sim.url }, redirect: 'manual' });
      expect(res.status).to.equal(303);
    }
  }

  it('runs the whole authorization-code flow: authorize, consent, callback, tokens stored', async () => {
    const node = await load();
    await authorizeThroughCallback(['read:status', 'command:lock']);
    const status = await helper.request().get('/ford-connect/accounts/acc').expect(200);
    expect(status.body.state).to.equal('authorized');
    expect(status.body.effectiveScopes).to.deep.equal(['read:status', 'command:lock']);
    expect(node.account?.can('read:status')).to.equal(true);
    expect(node.account?.can('read:location')).to.equal(false);
    const files = fs.readdirSync(path.join(userDir, 'ford-connect'));
    expect(files).to.deep.equal(['tokens-acc.json']);
    expect(fs.statSync(path.join(userDir, 'ford-connect', 'tokens-acc.json')).mode & 0o777).to.equal(0o600);
  });

  it('grants only what the owner ticked on the consent page', async () => {
    const node = await load();
    await authorizeThroughCallback(['read:status']);
    expect(node.account?.can('read:status')).to.equal(true);
    expect(node.account?.can('command:lock')).to.equal(false);
  });

  it('lists the account vehicles for the editor dropdown', async () => {
    await load();
    await authorizeThroughCallback(['read:status']);
    const res = await helper.request().get('/ford-connect/accounts/acc/vehicles').expect(200);
    const owned = sim.world.fleet.ownedBy('owner-1').map((v) => v.id).sort();
    expect((res.body.vehicles as { vehicleId: string }[]).map((v) => v.vehicleId).sort()).to.deep.equal(owned);
  });

  it('accepts the pasted redirect address when the callback cannot be reached', async () => {
    const node = await load();
    const start = await helper.request().post('/ford-connect/accounts/acc/authorize').send({}).expect(200);
    const redirect = await consentAt(start.body.url as string, { tick: ['read:status'] });
    const pasted = await helper.request().post('/ford-connect/accounts/acc/paste').send({ url: redirect }).expect(200);
    expect(pasted.body.state).to.equal('authorized');
    expect(node.account?.state).to.equal('authorized');
    // The same address twice is a replay.
    const again = await helper.request().post('/ford-connect/accounts/acc/paste').send({ url: redirect }).expect(400);
    expect(again.body.error).to.match(/already used|does not belong/);
  });

  it('refuses malformed callbacks and leaves stored tokens as they were', async () => {
    await load();
    await authorizeThroughCallback(['read:status']);
    const file = path.join(userDir, 'ford-connect', 'tokens-acc.json');
    const before = fs.readFileSync(file, 'utf8');

    await helper.request().get('/ford-connect/auth/callback?code=x').expect(400).expect(/unknown, already used or expired/);
    await helper.request().get('/ford-connect/auth/callback?code=x&state=0123456789abcdef').expect(400).expect(/unknown, already used or expired/);

    const start = await helper.request().post('/ford-connect/accounts/acc/authorize').send({}).expect(200);
    const state = new URL(start.body.url as string).searchParams.get('state');
    await helper.request().get(`/ford-connect/auth/callback?error=access_denied&state=${state}`).expect(400).expect(/denied/);

    // A code that was already exchanged.
    const start2 = await helper.request().post('/ford-connect/accounts/acc/authorize').send({}).expect(200);
    const redirect = new URL(await consentAt(start2.body.url as string, { tick: ['read:status'] }));
    await helper.request().get(`/ford-connect/auth/callback${redirect.search}`).expect(200);
    const after = fs.readFileSync(file, 'utf8');
    const start3 = await helper.request().post('/ford-connect/accounts/acc/authorize').send({}).expect(200);
    const state3 = new URL(start3.body.url as string).searchParams.get('state');
    await helper.request().get(`/ford-connect/auth/callback?code=${redirect.searchParams.get('code')}&state=${state3}`).expect(400).expect(/Nothing was changed/);
    expect(fs.readFileSync(file, 'utf8')).to.equal(after);
    expect(after).to.not.equal(before);
  });

  it('ends the previous authorization at the provider when the owner authorizes again', async () => {
    await load();
    const grantOf = () => {
      const stored = JSON.parse(fs.readFileSync(path.join(userDir, 'ford-connect', 'tokens-acc.json'), 'utf8')) as { accessToken: string };
      return sim.world.store.accessTokens.get(stored.accessToken)?.grantId as string;
    };
    await authorizeThroughCallback(['read:status']);
    const first = grantOf();
    await authorizeThroughCallback(['read:status', 'command:lock']);
    const second = grantOf();
    expect(second).to.not.equal(first);
    expect(sim.world.store.grants.get(first)?.revokedAt).to.be.a('number');
    expect(sim.world.store.grants.get(second)?.revokedAt).to.equal(undefined);
  });

  it('answers the vehicle list of a disconnected account with a clear 409', async () => {
    await load();
    const res = await helper.request().get('/ford-connect/accounts/acc/vehicles').expect(409);
    expect(res.body.error).to.match(/press Authorize/);
  });

  it('connects a fleet account with client credentials', async () => {
    const node = await load([account({ grant: 'client_credentials', scopes: ['read:status', 'command:charge'] })], { acc: { clientId: 'fleet-client', clientSecret: 'fleet-secret' } });
    const res = await helper.request().post('/ford-connect/accounts/acc/authorize').send({}).expect(200);
    expect(res.body.connected).to.equal(true);
    expect(node.account?.can('command:charge')).to.equal(true);
    const vehicles = await node.account!.vehicleApi().listVehicles();
    expect(vehicles.map((v) => v.vehicleId).sort()).to.deep.equal(sim.world.fleet.ownedBy('owner-fleet').map((v) => v.id).sort());
  });

  it('keeps a rotated refresh token across a Node-RED restart', async () => {
    let node = await load();
    await authorizeThroughCallback(['read:status']);
    await node.account!.tokens.refresh();
    // Restart: the flow is stopped and started again from the same user dir.
    await helper.unload();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
    node = await load();
    expect(node.account?.state).to.equal('authorized');
    const refreshed = await node.account!.tokens.refresh();
    expect(refreshed.accessToken).to.be.a('string');
    expect(node.account?.state).to.equal('authorized');
    const vehicles = await node.account!.vehicleApi().listVehicles();
    expect(vehicles.length).to.be.greaterThan(0);
  });

  it('refreshes once for 100 concurrent calls at expiry', async () => {
    const node = await load();
    await authorizeThroughCallback(['read:status']);
    sim.world.counts.reset();
    // 21 minutes later on both clocks: the kit's (faked Date) and the simulator's.
    sim.world.clock.advance(1260 * 1000);
    const clock = sinon.useFakeTimers({ now: Date.now() + 1260 * 1000, toFake: ['Date'] });
    let results: string[];
    try {
      results = await Promise.all(Array.from({ length: 100 }, () => node.account!.tokens.getAccessToken()));
    } finally {
      clock.restore();
    }
    expect(new Set(results).size).to.equal(1);
    expect(sim.world.counts.get('oauth.token.refresh_token')).to.equal(1);
  });

  it('turns a revocation on the Connected Apps page into "re-authorization needed", with no retry storm', async () => {
    const node = await load();
    await authorizeThroughCallback(['read:status']);
    await revokeOnConnectedAppsPage();
    const states: string[] = [];
    node.account!.on('state', (s: string) => states.push(s));
    sim.world.counts.reset();
    for (let i = 0; i < 5; i++) {
      const err = await node.account!.vehicleApi().listVehicles().then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/re-authorization needed/);
    }
    expect(states).to.deep.equal(['reauth-needed']);
    expect(sim.world.counts.get('oauth.token.refresh_token')).to.equal(1);
    expect(sim.world.counts.get('api.total')).to.equal(1);
    const revoked = node.account!.auditRing.list().filter((r) => r.action === 'auth.revoked');
    expect(revoked).to.have.length(1);
    const status = await helper.request().get('/ford-connect/accounts/acc').expect(200);
    expect(status.body.state).to.equal('reauth-needed');
  });

  it('answers a 401 with exactly one refresh and one retry', async () => {
    const node = await load();
    await authorizeThroughCallback(['read:status']);
    // The provider forgets the access token early (as after a server-side expiry).
    await fetch(`${sim.url}/sim/tokens/expire`, { method: 'POST' });
    sim.world.counts.reset();
    const vehicles = await node.account!.vehicleApi().listVehicles();
    expect(vehicles.length).to.be.greaterThan(0);
    expect(sim.world.counts.get('oauth.token.refresh_token')).to.equal(1);
    expect(sim.world.counts.get('api.vehicles.list')).to.equal(2);
    expect(node.account?.state).to.equal('authorized');
  });

  it('tells every registered node when re-authorization is needed', async () => {
    const node = await load();
    await authorizeThroughCallback(['read:status']);
    const seen: Record<string, string[]> = { a: [], b: [] };
    node.register({ onAccountState: (s) => seen.a.push(s) });
    node.register({ onAccountState: (s) => seen.b.push(s) });
    await revokeOnConnectedAppsPage();
    await node.account!.vehicleApi().listVehicles().catch(() => undefined);
    expect(seen.a).to.deep.equal(['authorized', 'reauth-needed']);
    expect(seen.b).to.deep.equal(['authorized', 'reauth-needed']);
    // Authorizing again brings them back.
    await authorizeThroughCallback(['read:status']);
    expect(seen.a.at(-1)).to.equal('authorized');
  });

  it('disconnects: revokes at the provider and forgets the tokens', async () => {
    const node = await load();
    await authorizeThroughCallback(['read:status']);
    const stored = JSON.parse(fs.readFileSync(path.join(userDir, 'ford-connect', 'tokens-acc.json'), 'utf8')) as { accessToken: string };
    const grantId = sim.world.store.accessTokens.get(stored.accessToken)?.grantId as string;
    const res = await helper.request().post('/ford-connect/accounts/acc/disconnect').send({}).expect(200);
    expect(res.body.revokedAtProvider, JSON.stringify(res.body)).to.equal(true);
    expect(node.account?.state).to.equal('unauthorized');
    expect(fs.existsSync(path.join(userDir, 'ford-connect', 'tokens-acc.json'))).to.equal(false);
    expect(sim.world.store.grants.get(grantId)?.revokedAt).to.be.a('number');
  });

  it('never puts tokens, secrets or codes in logs, admin answers or audit records', async () => {
    const node = await load([account({ auditFile: path.join(userDir, 'audit.jsonl') })]);
    const start = await helper.request().post('/ford-connect/accounts/acc/authorize').send({}).expect(200);
    const redirect = new URL(await consentAt(start.body.url as string, { tick: ['read:status'] }));
    const code = redirect.searchParams.get('code') as string;
    await helper.request().get(`/ford-connect/auth/callback${redirect.search}`).expect(200);
    const stored = JSON.parse(fs.readFileSync(path.join(userDir, 'ford-connect', 'tokens-acc.json'), 'utf8')) as { accessToken: string; refreshToken: string };
    const secrets = [stored.accessToken, stored.refreshToken, code, 'demo-secret'];
    const refreshed = await node.account!.tokens.refresh();
    secrets.push(refreshed.accessToken, refreshed.refreshToken as string);
    await revokeOnConnectedAppsPage();
    await node.account!.vehicleApi().listVehicles().catch(() => undefined);
    await node.account!.flushAudit();

    const audit = await helper.request().get('/ford-connect/accounts/acc/audit').expect(200);
    const actions = (audit.body.records as { action: string; outcome: string }[]).map((r) => `${r.action}:${r.outcome}`);
    expect(actions).to.include.members(['token.refresh:ok', 'token.refresh:failed', 'auth.revoked:denied']);
    // The helper spies on every node's warn.
    const warnings = (node.warn as unknown as sinon.SinonSpy).args;
    expect(warnings.flat().join()).to.match(/Re-authorization needed|reauth-needed/);
    const status = await helper.request().get('/ford-connect/accounts/acc').expect(200);
    const everything = [
      JSON.stringify(status.body),
      JSON.stringify(audit.body),
      fs.readFileSync(path.join(userDir, 'audit.jsonl'), 'utf8'),
      JSON.stringify(warnings),
      JSON.stringify(helper.log().args),
    ].join('\n');
    for (const secret of secrets) expect(everything).to.not.include(secret);
  });
});
