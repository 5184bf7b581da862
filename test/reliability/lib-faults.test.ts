import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { FordAccount } from '../../src/lib/account';
import { ApiError, NotSentError } from '../../src/lib/api/errors';
import { FordConnectV1Api } from '../../src/lib/api/fordconnect-v1';
import { HttpClient } from '../../src/lib/api/http-client';
import { FORD_APPLICATION_ID } from '../../src/lib/api/presets';
import { CommandRefusedError, CommandRunner, type CommandAccount } from '../../src/lib/commands';
import { TokenStore } from '../../src/lib/oauth/token-store';
import { answerCounts, withWrongTypes } from '../../src/sim/control/answer-faults';
import { defaultFaults } from '../../src/sim/control/faults';
import { startSimulator, type RestartableSimulator } from '../../src/sim/server';
import { ProcessProblems } from '../helpers/fault-flow';
import { mintToken } from '../helpers/sim';

const SEC = 1000;

/**
 * The fault machinery itself (the simulator's body faults, answer counts
 * and restart; validation in /sim/faults) and the lib without Node-RED:
 * real request timeouts, and a command's 429 holding the next one back.
 */
describe('reliability: fault injection in the simulator and the lib (real timers)', function () {
  let sim: RestartableSimulator;
  const problems = new ProcessProblems();

  before(() => problems.install());
  after(() => problems.uninstall());
  beforeEach(async () => {
    sim = await startSimulator({ port: 0, host: '127.0.0.1', seed: 42, commandDelayMs: 0 });
  });
  afterEach(async () => {
    await sim.close();
    expect(problems.seen, 'unhandled rejections / uncaught exceptions').to.deep.equal([]);
  });

  const vehicle = (): string => sim.world.fleet.ownedBy('owner-1')[0].id;

  function client(options: { timeoutMs?: number } = {}): { http: HttpClient; api: FordConnectV1Api } {
    const { token } = mintToken(sim, 'owner-1', ['read:status', 'read:location', 'command:lock']);
    const http = new HttpClient({ baseUrl: `${sim.url}/api/fordconnect`, tokens: { getAccessToken: async () => token, tokenAfterRejection: async () => token }, headers: { 'Application-Id': FORD_APPLICATION_ID }, ...options });
    return { http, api: new FordConnectV1Api(http) };
  }

  async function control(method: string, route: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${sim.url}${route}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  describe('/sim/faults: bodyFault and bodyFaultRate', () => {
    it('are off by default, validated, shown and reset', async () => {
      expect(defaultFaults()).to.include({ bodyFault: 'none', bodyFaultRate: 1 });
      for (const bad of [{ bodyFault: 'garbled' }, { bodyFault: 1 }, { bodyFault: null }, { bodyFaultRate: 1.5 }, { bodyFaultRate: -0.1 }, { bodyFaultRate: '1' }]) {
        const res = await control('PUT', '/sim/faults', bad);
        expect(res.status, JSON.stringify(bad)).to.equal(400);
        expect(String(res.body.error)).to.match(/bodyFault/);
      }
      expect(sim.world.faults.bodyFault).to.equal('none');
      const set = await control('PUT', '/sim/faults', { bodyFault: 'truncated', bodyFaultRate: 0.5 });
      expect(set.body).to.include({ bodyFault: 'truncated', bodyFaultRate: 0.5 });
      expect(((await control('GET', '/sim/state')).body.faults as Record<string, unknown>).bodyFault).to.equal('truncated');
      expect((await control('DELETE', '/sim/faults')).body).to.include({ bodyFault: 'none', bodyFaultRate: 1 });
    });

    it('spoil only successful API answers, as each kind says; a share of them with a rate below 1', async () => {
      const { http } = client();
      const id = vehicle();
      const raw = async (): Promise<{ status: number; type: string; text: string }> => {
        const { token } = mintToken(sim, 'owner-1', ['read:status']);
        const res = await fetch(`${sim.url}/api/fordconnect/v3/vehicles/${id}`, { headers: { Authorization: `Bearer ${token}`, 'Application-Id': FORD_APPLICATION_ID } });
        return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
      };
      const good = await raw();
      expect(good.status).to.equal(200);

      sim.world.faults.bodyFault = 'truncated';
      const cut = await raw();
      expect([cut.status, cut.type]).to.deep.equal([200, 'application/json; charset=utf-8']);
      expect(cut.text.length).to.be.below(good.text.length);
      expect(() => JSON.parse(cut.text)).to.throw(SyntaxError);
      sim.world.faults.bodyFault = 'non-json';
      expect(await raw()).to.deep.include({ status: 200, text: 'OK' });
      sim.world.faults.bodyFault = 'html';
      const page = await raw();
      expect([page.status, page.type.split(';')[0]]).to.deep.equal([502, 'text/html']);
      expect(page.text).to.match(/<h1>502 Bad Gateway<\/h1>/);
      sim.world.faults.bodyFault = 'missing-fields';
      expect(JSON.parse((await raw()).text)).to.deep.equal({ status: 'SUCCESS' });
      sim.world.faults.bodyFault = 'wrong-types';
      const typed = JSON.parse((await raw()).text) as { status: unknown; vehicle: Record<string, unknown> };
      expect(typed.status).to.equal(true);
      expect(typed.vehicle.vehicleId).to.equal(true);
      expect((typed.vehicle.vehicleDetails as Record<string, { value: unknown }>).fuelLevel.value).to.equal('n/a');

      // Errors are not spoilt (a 404 stays Ford's JSON), nor are OAuth and /sim answers.
      const missing = await http.request('GET', '/v3/vehicles/ffffffffffffffffffffffffffffffff').then(() => undefined, (e: unknown) => e as ApiError);
      expect(missing?.kind).to.equal('not-found');
      expect((await control('GET', '/sim/faults')).body.bodyFault).to.equal('wrong-types');

      // A share: seeded, so the same every run.
      Object.assign(sim.world.faults, { bodyFault: 'non-json', bodyFaultRate: 0.5 });
      const before = answerCounts(sim.world).get('api.body-fault');
      for (let i = 0; i < 40; i++) await raw();
      expect(answerCounts(sim.world).get('api.body-fault') - before).to.be.within(10, 30);
    });

    it('withWrongTypes keeps the shape and gives no field a usable value', () => {
      expect(withWrongTypes({ a: 'x', b: 1, c: true, d: null, e: [{ f: '42.5' }] })).to.deep.equal({ a: true, b: 'n/a', c: 'n/a', d: null, e: [{ f: true }] });
    });
  });

  describe('answer counts (/sim/answers)', () => {
    it('count API answers by status and expired-token refusals, apart from the request counts', async () => {
      const { http } = client();
      await http.request('GET', '/v3/vehicles');
      const { token } = mintToken(sim, 'owner-1', ['read:status'], { lifetimeSeconds: 1 });
      sim.world.clock.advance(2 * SEC);
      const res = await fetch(`${sim.url}/api/fordconnect/v3/vehicles`, { headers: { Authorization: `Bearer ${token}`, 'Application-Id': FORD_APPLICATION_ID } });
      expect(res.status).to.equal(401);
      const answers = (await control('GET', '/sim/answers')).body;
      expect(answers).to.deep.include({ 'api.200': 1, 'api.401': 1, 'api.401.token-expired': 1 });
      expect(sim.world.counts.snapshot(), 'request counts keep their keys').to.not.have.property('api.200');
      expect((await control('DELETE', '/sim/answers')).body).to.deep.equal({});
    });
  });

  describe('stopListening / listenAgain / restart', () => {
    it('go down and come back on the same port with the same world; requests meanwhile are refused; close works either way', async () => {
      const { api } = client();
      const id = vehicle();
      const url = sim.url;
      sim.world.fleet.patch(id, { locked: false });
      await sim.stopListening();
      expect(sim.listening).to.equal(false);
      const down = await api.getStatus(id).then(() => undefined, (e: unknown) => e as ApiError);
      expect(down?.kind).to.equal('network');
      expect(down?.message).to.match(/failed \(ECONNREFUSED\)$/);
      expect(down, 'a refused connection: nothing was sent').to.be.instanceOf(NotSentError);
      await sim.stopListening();
      await sim.listenAgain();
      await sim.listenAgain();
      expect([sim.listening, sim.url]).to.deep.equal([true, url]);
      // The same token (the same grants), the same vehicle state.
      expect((await api.getStatus(id)).status.lock).to.equal('unlocked');
      // Right after a restart the kept-alive connection is dead: a read is tried once more on a fresh one…
      await sim.restart();
      const reads = sim.world.counts.get('api.vehicle.info');
      expect((await api.getStatus(id)).status.lock).to.equal('unlocked');
      expect(sim.world.counts.get('api.vehicle.info') - reads).to.equal(1);
      // …a command is not: it fails as it is, and it never reached the vehicle. (Had the kit already seen the
      // connection close, the command would have left on a fresh one: sent once, answered.)
      await sim.restart();
      const sent = await api.sendCommand(id, 'lock').then(() => undefined, (e: unknown) => e as ApiError);
      if (sent) {
        expect(sent.kind).to.equal('network');
        expect(sent.message).to.match(/^POST \/v1\/vehicles\/[0-9a-f]{32}\/lock failed \(ECONNRESET\)$/);
        expect(sim.world.counts.get('api.command.lock')).to.equal(0);
      } else {
        expect(sim.world.counts.get('api.command.lock')).to.equal(1);
      }
      expect(sim.openRequests).to.equal(0);
      await sim.stopListening();
    });
  });

  describe('the lib on its own', () => {
    it('a latency spike over the request timeout is a clear "timed out" error, after one request', async () => {
      const { api } = client({ timeoutMs: 150 });
      sim.world.faults.latencyMs = 400;
      const started = performance.now();
      const err = await api.getStatus(vehicle()).then(() => undefined, (e: unknown) => e as ApiError);
      expect(performance.now() - started).to.be.below(390);
      expect(err?.kind).to.equal('network');
      expect(err?.message).to.match(/^GET \/v3\/vehicles\/[0-9a-f]{32} timed out$/);
      expect(sim.world.counts.get('api.vehicle.info')).to.equal(1);
      sim.world.faults.latencyMs = 0;
      await new Promise((r) => setTimeout(r, 300));
    });

    it('a command answered 429 holds every command of that account on that vehicle back until Retry-After, without a request; other vehicles go on', async () => {
      const { api } = client();
      let now = Date.now();
      const runner = new CommandRunner({ now: () => now, sleep: () => new Promise((r) => setImmediate(r)) });
      const account: CommandAccount = { config: { id: 'acc-429' }, endpoints: { commands: true }, state: 'authorized', can: () => true, vehicleApi: () => api };
      const [truck, other] = sim.world.fleet.ownedBy('owner-1').map((v) => v.id);
      Object.assign(sim.world.faults, { rateLimitRate: 1, retryAfterSeconds: 90 });
      const first = await runner.run({ account, vehicleId: truck, action: 'lock' }).then(() => undefined, (e: unknown) => e as ApiError);
      expect(first).to.be.instanceOf(ApiError).and.not.instanceOf(CommandRefusedError);
      expect([first?.kind, first?.httpStatus, first?.retryAfterSeconds]).to.deep.equal(['rate-limited', 429, 90]);
      sim.world.faults.rateLimitRate = 0;

      now += 30 * SEC;
      for (const action of ['lock', 'unlock', 'horn-lights'] as const) {
        const held = await runner.run({ account, vehicleId: truck, action }).then(() => undefined, (e: unknown) => e as CommandRefusedError);
        expect(held, action).to.be.instanceOf(CommandRefusedError);
        expect(held?.kind).to.equal('rate-limited');
        expect(held?.retryAfterSeconds).to.equal(60);
        expect(held?.message).to.match(/429/).and.match(/in 60 s/);
        expect(runner.refusal(account, action, truck)?.kind, 'refusal() says so too').to.equal('rate-limited');
      }
      expect(sim.world.counts.get('api.command.lock') + sim.world.counts.get('api.command.unlock') + sim.world.counts.get('api.command.signal')).to.equal(1);
      expect((await runner.run({ account, vehicleId: other, action: 'lock' })).status, 'another vehicle').to.equal('success');

      now += 60 * SEC;
      expect((await runner.run({ account, vehicleId: truck, action: 'lock' })).status, 'after Retry-After').to.equal('success');
    });

    it('one refresh serves every call waiting at the same moment, even with 2 s tokens (a real FordAccount)', async () => {
      await sim.close();
      sim = await startSimulator({ port: 0, host: '127.0.0.1', seed: 42, accessTokenSeconds: 2 });
      const { account, dir } = accountWithTokens(sim, 0);
      try {
        sim.world.counts.reset();
        const id = vehicle();
        await Promise.all([account.vehicleApi().getStatus(id), account.vehicleApi().getLocation(id), account.vehicleApi().listVehicles()]);
        expect([sim.world.counts.get('api.total'), sim.world.counts.get('oauth.token.refresh_token')]).to.deep.equal([3, 1]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('with 2 s tokens, calls every 250 ms for 8 s cost about 8 s / 2 s refreshes, not one per call (the margin is a tenth of the lifetime)', async function () {
      this.timeout(20_000);
      await sim.close();
      sim = await startSimulator({ port: 0, host: '127.0.0.1', seed: 42, accessTokenSeconds: 2 });
      const { account, dir } = accountWithTokens(sim);
      try {
        sim.world.counts.reset();
        for (let i = 0; i < 32; i++) {
          await account.vehicleApi().listVehicles();
          await new Promise((r) => setTimeout(r, 250));
        }
        const refreshes = sim.world.counts.get('oauth.token.refresh_token');
        // 32 calls over 8 s and a little: a token serves 1.8 s, until the next call after that (about 2 s): 3 or 4.
        expect(refreshes, 'refreshes').to.be.within(3, 4);
        expect(answerCounts(sim.world).get('api.401'), 'no call met an expired token').to.equal(0);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

  });
});

/** A FordAccount whose token file holds a fresh grant of the demo owner (no browser), as the editor's Authorize leaves it. */
function accountWithTokens(sim: RestartableSimulator, expiresInMs = 2 * SEC): { account: FordAccount; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-lib-faults-'));
  const client = sim.world.options.demoClient;
  const scopes = ['read:status', 'read:location'];
  const grant = sim.world.store.createGrant('owner-1', client.id, scopes, sim.world.fleet.ownedBy('owner-1').map((v) => v.id));
  const access = sim.world.store.issueAccessToken(grant, scopes);
  const refresh = sim.world.store.issueRefreshToken(grant, scopes);
  new TokenStore(dir, 'acct-lib').save({ accessToken: access.token, tokenType: 'Bearer', issuedAt: Date.now(), expiresAt: Date.now() + expiresInMs, refreshToken: refresh.token, grantedScopes: scopes, authorizedAt: Date.now() });
  const account = new FordAccount(
    { id: 'acct-lib', preset: 'simulator', grant: 'authorization_code', redirectUri: 'http://127.0.0.1:1880/cb', scopes, clientId: client.id, clientSecret: client.secret },
    { tokenDir: dir, simulatorUrl: sim.url },
  );
  return { account, dir };
}
