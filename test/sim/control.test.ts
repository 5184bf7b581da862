import { request } from 'node:http';
import { expect } from 'chai';
import type { RunningSimulator } from '../../src/sim';
import { controlRefusal, isLoopbackAddress } from '../../src/sim/control/loopback';
import { defaultFaults } from '../../src/sim/control/faults';
import { mintToken, requestFrom, withSimulator } from '../helpers/sim';

interface JsonAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

describe('sim control API (/sim)', () => {
  let sim: RunningSimulator;

  before(async () => {
    sim = await withSimulator();
  });
  after(() => sim.close());

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonAnswer> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { 'content-type': 'application/json', ...headers };
    }
    const res = await fetch(`${sim.url}${path}`, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  /** Raw request, for headers fetch will not let us set (Host). */
  function raw(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${sim.url}${path}`, { headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  describe('who may call', () => {
    it('knows loopback addresses', () => {
      for (const a of ['127.0.0.1', '127.10.0.5', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect(isLoopbackAddress(a), a).to.equal(true);
      for (const a of ['10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', 'fe80::1', '::', '0.0.0.0', '', undefined, 'localhost', '128.0.0.1']) expect(isLoopbackAddress(a), String(a)).to.equal(false);
    });

    it('refuses callers off loopback, behind a proxy from elsewhere, a foreign Host, or a cross-site page', () => {
      expect(controlRefusal({ socketAddress: '127.0.0.1', ip: '127.0.0.1', host: '127.0.0.1:8370' })).to.equal(undefined);
      expect(controlRefusal({ socketAddress: '::1', host: '[::1]:8370', origin: 'http://localhost:1880' })).to.equal(undefined);
      expect(controlRefusal({ socketAddress: '::ffff:127.0.0.1', host: 'localhost' })).to.equal(undefined);
      expect(controlRefusal({ socketAddress: '192.168.1.20', host: '127.0.0.1:8370' })).to.match(/loopback/);
      expect(controlRefusal({ socketAddress: undefined })).to.match(/loopback/);
      expect(controlRefusal({ socketAddress: '127.0.0.1', ip: '203.0.113.9' })).to.match(/loopback/);
      expect(controlRefusal({ socketAddress: '127.0.0.1', host: 'evil.example:8370' })).to.match(/host/);
      expect(controlRefusal({ socketAddress: '127.0.0.1', host: '127.0.0.1', origin: 'https://evil.example' })).to.match(/cross-site/);
      expect(controlRefusal({ socketAddress: '127.0.0.1', host: '127.0.0.1', origin: 'null' })).to.match(/cross-site/);
      expect(controlRefusal({ socketAddress: '127.0.0.1', host: '127.0.0.1', secFetchSite: 'cross-site' })).to.match(/cross-site/);
    });

    it('answers 403 over HTTP to a cross-site page or a rebound host name', async () => {
      const crossSite = await call('POST', '/sim/tokens/expire', undefined, { origin: 'https://evil.example' });
      expect(crossSite.status).to.equal(403);
      expect(crossSite.body).to.have.property('error').that.matches(/cross-site/);
      const rebound = await raw('/sim/state', { host: 'attacker.example:8370' });
      expect(rebound.status).to.equal(403);
      expect(JSON.parse(rebound.body)).to.have.property('error');
    });
  });

  describe('with no trusted proxy (the default)', () => {
    it('answers any loopback peer and ignores X-Forwarded-For', async () => {
      for (const localAddress of ['127.0.0.1', '127.0.0.2']) {
        const res = await requestFrom(`${sim.url}/sim/clock`, { localAddress });
        expect(res.status, localAddress).to.equal(200);
      }
      // The peer is loopback; a header cannot make it an outsider, nor an outsider loopback.
      expect((await requestFrom(`${sim.url}/sim/clock`, { localAddress: '127.0.0.2', headers: { 'X-Forwarded-For': '203.0.113.9' } })).status).to.equal(200);
    });

    it('refuses an outside caller named by a proxy it was told to trust', async () => {
      const proxied = await withSimulator({ trustProxy: 'loopback' });
      try {
        expect((await requestFrom(`${proxied.url}/sim/clock`, { headers: { 'X-Forwarded-For': '203.0.113.9' } })).status).to.equal(403);
        expect((await requestFrom(`${proxied.url}/sim/clock`, { headers: { 'X-Forwarded-For': '127.0.0.5' } })).status).to.equal(200);
      } finally {
        await proxied.close();
      }
    });
  });

  describe('routing', () => {
    it('answers 404 JSON for an unknown /sim route', async () => {
      const res = await call('GET', '/sim/nope');
      expect(res.status).to.equal(404);
      expect(res.headers.get('content-type')).to.match(/application\/json/);
      expect(res.body).to.have.property('error').that.contains('/sim/nope');
    });

    it('answers 405 with Allow for a wrong method', async () => {
      const res = await call('POST', '/sim/faults', {});
      expect(res.status).to.equal(405);
      expect(res.headers.get('allow')).to.equal('GET, HEAD, PUT, DELETE');
      expect(res.body).to.have.property('error');
      const clock = await call('GET', '/sim/clock/advance');
      expect(clock.status).to.equal(405);
      expect(clock.headers.get('allow')).to.equal('POST');
    });

    it('answers HEAD on a GET route', async () => {
      const res = await fetch(`${sim.url}/sim/clock`, { method: 'HEAD' });
      expect(res.status).to.equal(200);
    });

    it('answers 400 JSON to malformed JSON and 415 to a form body', async () => {
      const bad = await fetch(`${sim.url}/sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"errorRate":' });
      expect(bad.status).to.equal(400);
      expect(bad.headers.get('content-type')).to.match(/application\/json/);
      // The app-wide body parser answers before /sim routes: its own JSON error shape.
      expect(await bad.json()).to.deep.equal({ error: 'Malformed JSON body' });
      const form = await fetch(`${sim.url}/sim/faults`, { method: 'PUT', body: new URLSearchParams({ errorRate: '1' }) });
      expect(form.status).to.equal(415);
      expect(sim.world.faults.errorRate).to.equal(0);
    });
  });

  describe('GET /sim/state', () => {
    it('shows time, vehicles, grants, faults and limits, never a token or secret', async () => {
      const { token, grantId } = mintToken(sim, 'owner-1', ['read:status']);
      const grant = sim.world.store.grants.get(grantId);
      if (!grant) throw new Error('no grant');
      const refresh = sim.world.store.issueRefreshToken(grant, ['read:status']);
      const res = await fetch(`${sim.url}/sim/state`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const text = await res.text();
      expect(text).not.to.contain(token);
      expect(text).not.to.contain(refresh.token);
      expect(text).not.to.contain(sim.world.options.demoClient.secret);
      const state = JSON.parse(text) as Record<string, unknown>;
      expect(state).to.have.keys(['now', 'timeScale', 'vehicles', 'grants', 'faults', 'rateLimits']);
      expect(new Date(String(state.now)).toISOString()).to.equal(state.now);
      expect(state.vehicles).to.have.length(sim.world.fleet.list().length);
      expect(state.faults).to.deep.equal(defaultFaults());
      expect(state.rateLimits).to.deep.equal(sim.world.rateLimiter.settings);
      const view = (state.grants as { id: string }[]).find((g) => g.id === grantId);
      expect(view).to.include({ ownerId: 'owner-1', clientId: 'demo-client', liveAccessTokens: 1, revokedAt: null });
    });
  });

  describe('faults', () => {
    afterEach(() => Object.assign(sim.world.faults, defaultFaults()));

    it('round-trips a partial patch and resets to defaults', async () => {
      expect((await call('GET', '/sim/faults')).body).to.deep.equal(defaultFaults());
      const vehicleId = sim.world.fleet.list()[0].id;
      const put = await call('PUT', '/sim/faults', { errorRate: 0.25, latencyMs: 5, offlineVehicles: [vehicleId] });
      expect(put.status).to.equal(200);
      expect(put.body).to.deep.equal({ ...defaultFaults(), errorRate: 0.25, latencyMs: 5, offlineVehicles: [vehicleId] });
      expect(sim.world.faults.errorRate).to.equal(0.25);
      const again = await call('PUT', '/sim/faults', { rateLimitRate: 0.5 });
      expect(again.body).to.include({ errorRate: 0.25, rateLimitRate: 0.5 });
      expect((await call('GET', '/sim/faults')).body).to.deep.equal(again.body);
      const del = await call('DELETE', '/sim/faults');
      expect(del.status).to.equal(200);
      expect(del.body).to.deep.equal(defaultFaults());
      expect(sim.world.faults).to.deep.equal(defaultFaults());
    });

    it('refuses bad values with 400 { error } and changes nothing', async () => {
      for (const bad of [{ errorRate: 2 }, { latencyMs: -1 }, { latencyMs: '5' }, { bogus: 1 }, { offlineVehicles: 'x' }, { offlineVehicles: ['no-such-vehicle'] }, [1]]) {
        const res = await call('PUT', '/sim/faults', bad);
        expect(res.status, JSON.stringify(bad)).to.equal(400);
        expect(res.body).to.have.property('error').that.is.a('string');
      }
      expect(sim.world.faults).to.deep.equal(defaultFaults());
    });
  });

  describe('clock', () => {
    it('reads and advances simulated time', async () => {
      const before = (await call('GET', '/sim/clock')).body as { now: number; iso: string; timeScale: number };
      expect(before.iso).to.equal(new Date(before.now).toISOString());
      expect(before.timeScale).to.equal(1);
      const adv = await call('POST', '/sim/clock/advance', { ms: 3_600_000 });
      expect(adv.status).to.equal(200);
      const after = adv.body as { now: number };
      expect(after.now - before.now).to.be.within(3_600_000, 3_600_000 + 5_000);
      const secs = (await call('POST', '/sim/clock/advance', { seconds: 60 })).body as { now: number };
      expect(secs.now - after.now).to.be.within(60_000, 65_000);
      const read = (await call('GET', '/sim/clock')).body as { now: number };
      expect(read.now).to.be.at.least(secs.now);
    });

    it('refuses bad advances', async () => {
      const start = sim.world.clock.now();
      for (const bad of [{}, { ms: -1 }, { ms: '10' }, { seconds: null }, { ms: 1, seconds: 1 }, { minutes: 1 }, { ms: 1e15 }, [5]]) {
        const res = await call('POST', '/sim/clock/advance', bad);
        expect(res.status, JSON.stringify(bad)).to.equal(400);
        expect(res.body).to.have.property('error');
      }
      expect((await call('POST', '/sim/clock/advance')).status).to.equal(400);
      expect(sim.world.clock.now() - start).to.be.lessThan(5_000);
    });

    it('moves token expiry with it', async () => {
      const { token } = mintToken(sim, 'owner-1', ['read:status'], { lifetimeSeconds: 60 });
      expect(sim.world.store.checkAccessToken(token).ok).to.equal(true);
      await call('POST', '/sim/clock/advance', { seconds: 61 });
      expect(sim.world.store.checkAccessToken(token)).to.deep.equal({ ok: false, reason: 'expired' });
    });
  });

  describe('request counts', () => {
    it('reads and resets', async () => {
      sim.world.counts.increment('test.route');
      sim.world.counts.increment('test.route');
      expect((await call('GET', '/sim/requests')).body).to.include({ 'test.route': 2 });
      const del = await call('DELETE', '/sim/requests');
      expect(del.status).to.equal(200);
      expect(del.body).to.deep.equal({});
      expect((await call('GET', '/sim/requests')).body).to.deep.equal({});
    });
  });

  describe('vehicles', () => {
    it('reads a snapshot, 404 for an unknown vehicle', async () => {
      const id = sim.world.fleet.list()[0].id;
      const res = await call('GET', `/sim/vehicles/${id}`);
      expect(res.status).to.equal(200);
      // Not deep-equal to a later snapshot: a vehicle on its route moves between the two reads.
      expect(res.body).to.include({ id, vin: sim.world.fleet.get(id)?.vin });
      expect((await call('GET', '/sim/vehicles')).body).to.have.length(sim.world.fleet.list().length);
      const unknown = await call('GET', '/sim/vehicles/nope');
      expect(unknown.status).to.equal(404);
      expect(unknown.body).to.have.property('error');
      expect((await call('PATCH', '/sim/vehicles/nope', {})).status).to.equal(404);
    });

    it('patches state, 400 with the fleet\u2019s error text', async () => {
      const id = sim.world.fleet.list()[0].id;
      const bad = await call('PATCH', `/sim/vehicles/${id}`, { noSuchField: 1 });
      expect(bad.status).to.equal(400);
      expect(bad.body).to.have.property('error').that.is.a('string');
      expect((await call('PATCH', `/sim/vehicles/${id}`, [1])).status).to.equal(400);
      const before = sim.world.fleet.snapshot(id);
      const good = await call('PATCH', `/sim/vehicles/${id}`, { locked: !before?.locked });
      expect(good.status, JSON.stringify(good.body)).to.equal(200);
      expect(good.body).to.include({ id, locked: !before?.locked });
      expect(sim.world.fleet.snapshot(id)).to.include({ locked: !before?.locked });
    });
  });

  describe('tokens', () => {
    it('expires every live access token at once', async () => {
      const a = mintToken(sim, 'owner-1', ['read:status']);
      const b = mintToken(sim, 'owner-2', ['read:status']);
      const res = await call('POST', '/sim/tokens/expire');
      expect(res.status).to.equal(200);
      expect((res.body as { expired: number }).expired).to.be.at.least(2);
      expect(sim.world.store.checkAccessToken(a.token)).to.deep.equal({ ok: false, reason: 'expired' });
      expect(sim.world.store.checkAccessToken(b.token)).to.deep.equal({ ok: false, reason: 'expired' });
      expect((await call('POST', '/sim/tokens/expire')).body).to.deep.equal({ expired: 0 });
    });
  });

  describe('rate limits', () => {
    it('patches, validates, resets buckets and restores', async () => {
      const start = { ...sim.world.rateLimiter.settings };
      sim.world.rateLimiter.take('test-key', 1);
      expect(sim.world.rateLimiter.take('test-key', 1).ok).to.equal(false);
      const put = await call('PUT', '/sim/rate-limits', { perClientPerMinute: 5 });
      expect(put.status).to.equal(200);
      expect(put.body).to.deep.equal({ ...start, perClientPerMinute: 5 });
      expect(sim.world.rateLimiter.settings.perClientPerMinute).to.equal(5);
      expect(sim.world.rateLimiter.take('test-key', 1).ok, 'buckets were reset').to.equal(true);
      expect((await call('PUT', '/sim/rate-limits', { perVehiclePerMinute: 0 })).status).to.equal(200);
      for (const bad of [{ perClientPerMinute: -1 }, { perClientPerMinute: '5' }, { perVehiclePerMinute: null }, { other: 1 }, { perClientPerMinute: 9, other: 1 }]) {
        const res = await call('PUT', '/sim/rate-limits', bad);
        expect(res.status, JSON.stringify(bad)).to.equal(400);
        expect(res.body).to.have.property('error');
      }
      expect(sim.world.rateLimiter.settings).to.deep.equal({ perClientPerMinute: 5, perVehiclePerMinute: 0 });
      expect((await call('GET', '/sim/rate-limits')).body).to.deep.equal({ perClientPerMinute: 5, perVehiclePerMinute: 0 });
      expect((await call('DELETE', '/sim/rate-limits')).body).to.deep.equal(sim.world.options.rateLimits);
    });
  });

  describe('grants, audit and alerts', () => {
    it('revokes a grant as the owner would: tokens stop, audit and alert, once', async () => {
      sim.world.store.addClient({ id: 'ctl-app', secret: 'ctl-secret', name: 'Control test app', redirectUris: [], grants: ['authorization_code'] });
      const { token, grantId } = mintToken(sim, 'owner-2', ['read:status'], { clientId: 'ctl-app' });
      const auditSeq = sim.world.audit.all().at(-1)?.seq ?? 0;
      const alertSeq = sim.world.alerts.all().at(-1)?.seq ?? 0;

      const res = await call('POST', `/sim/grants/${grantId}/revoke`);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ id: grantId, liveAccessTokens: 0 });
      expect((res.body as { revokedAt: string | null }).revokedAt).to.be.a('string');
      expect(JSON.stringify(res.body)).not.to.contain(token);
      expect(sim.world.store.checkAccessToken(token)).to.deep.equal({ ok: false, reason: 'revoked' });

      const audit = (await call('GET', `/sim/audit?since=${auditSeq}`)).body as { action: string; outcome: string; clientId: string; seq: number }[];
      expect(audit.map((e) => [e.action, e.outcome, e.clientId])).to.deep.equal([['auth.revoked', 'ok', 'ctl-app']]);
      const alerts = (await call('GET', `/sim/alerts?since=${alertSeq}`)).body as { kind: string; ownerId: string }[];
      expect(alerts.map((a) => [a.kind, a.ownerId])).to.deep.equal([['app-revoked', 'owner-2']]);

      expect((await call('POST', `/sim/grants/${grantId}/revoke`)).status).to.equal(200);
      expect((await call('GET', `/sim/audit?since=${auditSeq}`)).body).to.have.length(1);
      expect((await call('GET', `/sim/grants/${grantId}`)).body).to.include({ id: grantId, clientName: 'Control test app' });
      expect((await call('GET', '/sim/grants')).body).to.be.an('array').that.is.not.empty;
    });

    it('404 for an unknown grant', async () => {
      expect((await call('POST', '/sim/grants/grant-nope/revoke')).status).to.equal(404);
      expect((await call('GET', '/sim/grants/grant-nope')).status).to.equal(404);
    });

    it('reads the audit log and alerts since a sequence number, refuses a bad one', async () => {
      const a = sim.world.audit.record({ ownerId: 'owner-1', clientId: 'x', action: 'status.read', outcome: 'ok', detail: 'since-test' });
      const all = (await call('GET', '/sim/audit')).body as { seq: number }[];
      expect(all.at(-1)?.seq).to.equal(a.seq);
      expect((await call('GET', `/sim/audit?since=${a.seq - 1}`)).body).to.deep.equal([a]);
      expect((await call('GET', `/sim/audit?since=${a.seq}`)).body).to.deep.equal([]);
      const alert = sim.world.alerts.raise('owner-1', 'x', 'ip-blocked', 'since-alert');
      expect((await call('GET', `/sim/alerts?since=${alert.seq - 1}`)).body).to.deep.equal([alert]);
      for (const bad of ['-1', 'abc', '1.5', '']) {
        expect((await call('GET', `/sim/audit?since=${bad}`)).status, bad).to.equal(400);
        expect((await call('GET', `/sim/alerts?since=${bad}`)).status, bad).to.equal(400);
      }
    });
  });
});
