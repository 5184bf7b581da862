import { expect } from 'chai';
import type { RunningSimulator } from '../../src/sim';
import { mintToken, requestFrom, withSimulator } from '../helpers/sim';

const APP_ID = 'afdc085b-377a-4351-b23e-5e1d35fb3700';

async function signIn(sim: RunningSimulator, email: string, next = '/owner/apps'): Promise<{ cookie: string; location: string | null }> {
  const res = await fetch(`${sim.url}/owner/login`, {
    method: 'POST',
    body: new URLSearchParams({ email, password: 'demo', next }),
    redirect: 'manual',
  });
  expect(res.status).to.equal(303);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ford_sim_session='));
  expect(cookie, 'session cookie').to.be.a('string');
  return { cookie: String(cookie).split(';')[0], location: res.headers.get('location') };
}

function get(sim: RunningSimulator, path: string, cookie?: string): Promise<Response> {
  return fetch(`${sim.url}${path}`, { headers: cookie ? { cookie } : {}, redirect: 'manual' });
}

function postForm(sim: RunningSimulator, path: string, fields: Record<string, string>, cookie?: string): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: cookie ? { cookie } : {},
    body: new URLSearchParams(fields),
    redirect: 'manual',
  });
}

function apiVehicles(sim: RunningSimulator, token: string): Promise<Response> {
  return fetch(`${sim.url}/api/fordconnect/v3/vehicles`, {
    headers: { Authorization: `Bearer ${token}`, 'Application-Id': APP_ID, 'api-version': '2020-06-01', Accept: 'application/json' },
  });
}

describe('sim owner pages', () => {
  let sim: RunningSimulator;
  let owner1: string;
  let owner2: string;

  before(async () => {
    sim = await withSimulator();
    owner1 = (await signIn(sim, 'owner@example.com')).cookie;
    owner2 = (await signIn(sim, 'partner@example.com')).cookie;
  });
  after(() => sim.close());

  describe('anonymous visitors', () => {
    for (const path of ['/owner/apps', '/owner/audit?outcome=ok&app=x', '/owner/alerts']) {
      it(`GET ${path} goes to the login page and back`, async () => {
        const res = await get(sim, path);
        expect(res.status).to.equal(302);
        const location = String(res.headers.get('location'));
        expect(location).to.equal(`/owner/login?next=${encodeURIComponent(path)}`);
        const back = await signIn(sim, 'owner@example.com', new URL(location, sim.url).searchParams.get('next') ?? '');
        expect(back.location).to.equal(path);
      });
    }

    it('cannot revoke: sent to sign in, grant untouched', async () => {
      sim.world.store.addClient({ id: 'anon-test', secret: 's', name: 'Anon test', redirectUris: [], grants: ['authorization_code'] });
      const { grantId } = mintToken(sim, 'owner-1', ['read:status'], { clientId: 'anon-test' });
      const res = await postForm(sim, `/owner/apps/${grantId}/revoke`, {});
      expect(res.status).to.equal(303);
      expect(res.headers.get('location')).to.match(/^\/owner\/login\?next=/);
      expect(sim.world.store.grants.get(grantId)?.revokedAt).to.equal(undefined);
      sim.world.store.revokeGrant(grantId, 'test clean-up');
    });
  });

  describe('Connected apps', () => {
    it('lists the app, its scopes in plain words with sensitive ones marked, masked vehicles, never a token', async () => {
      const vehicles = sim.world.fleet.ownedBy('owner-1');
      expect(vehicles.length).to.be.greaterThan(0);
      const { token } = mintToken(sim, 'owner-1', ['read:status', 'read:location', 'command:lock']);
      const res = await get(sim, '/owner/apps', owner1);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/text\/html/);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const body = await res.text();
      expect(body).to.contain('Node-RED Ford Connect (demo app)');
      expect(body).to.contain('read:location');
      expect(body).to.contain('See lock state, fuel or charge level');
      // read:location and command:lock are sensitive, read:status is not.
      expect(body.match(/class="sensitive"[^>]*>⚠ sensitive/g)).to.have.length(2);
      for (const v of vehicles) {
        expect(body).to.contain(`…${v.vin.slice(-4)}`);
        expect(body).not.to.contain(v.vin);
        expect(body).to.contain(v.nickName.replace(/&/g, '&amp;').replace(/'/g, '&#39;'));
      }
      expect(body).to.contain('never');
      expect(body).to.contain('Revoke now');
      expect(body).to.contain('Recently revoked');
      expect(body).not.to.contain(token);
      expect(body).not.to.contain(sim.world.options.demoClient.secret);
    });

    it('shows the last access once the app has used its token', async () => {
      const { token, grantId } = mintToken(sim, 'owner-1', ['read:status']);
      expect(sim.world.store.checkAccessToken(token).ok).to.equal(true);
      const at = new Date(sim.world.store.grants.get(grantId)?.lastAccessAt ?? 0).toISOString();
      const body = await (await get(sim, '/owner/apps', owner1)).text();
      expect(body).to.contain(`datetime="${at}"`);
    });

    it('escapes the app name', async () => {
      sim.world.store.addClient({ id: 'evil-app', secret: 'evil-secret', name: '<img src=x onerror=alert(1)>', redirectUris: [], grants: ['authorization_code'] });
      const { grantId } = mintToken(sim, 'owner-1', ['read:status'], { clientId: 'evil-app' });
      const body = await (await get(sim, '/owner/apps', owner1)).text();
      expect(body).to.contain('&lt;img src=x onerror=alert(1)&gt;');
      expect(body).not.to.contain('<img src=x');
      expect(body).not.to.contain('evil-secret');
      sim.world.store.revokeGrant(grantId, 'test clean-up');
    });

    it('does not show another owner\u2019s apps', async () => {
      sim.world.store.addClient({ id: 'partner-only', secret: 's', name: 'Partner-only app', redirectUris: [], grants: ['authorization_code'] });
      mintToken(sim, 'owner-2', ['read:status'], { clientId: 'partner-only' });
      expect(await (await get(sim, '/owner/apps', owner1)).text()).not.to.contain('Partner-only app');
      expect(await (await get(sim, '/owner/apps', owner2)).text()).to.contain('Partner-only app');
    });

    it('"Revoke now" stops every token at once, records it, alerts, and lists the app as revoked', async () => {
      sim.world.store.addClient({ id: 'revoke-me', secret: 's', name: 'Revoke-me app', redirectUris: [], grants: ['authorization_code', 'refresh_token'] });
      const { token, grantId } = mintToken(sim, 'owner-1', ['read:status'], { clientId: 'revoke-me' });
      const grant = sim.world.store.grants.get(grantId);
      if (!grant) throw new Error('no grant');
      const refresh = sim.world.store.issueRefreshToken(grant, ['read:status']);
      expect((await apiVehicles(sim, token)).status).to.equal(200);

      const res = await postForm(sim, `/owner/apps/${grantId}/revoke`, {}, owner1);
      expect(res.status).to.equal(303);
      expect(res.headers.get('location')).to.equal('/owner/apps?notice=revoked');

      expect(sim.world.store.checkAccessToken(token)).to.deep.equal({ ok: false, reason: 'revoked' });
      expect(sim.world.store.refreshTokens.get(refresh.token)?.revoked).to.equal(true);
      expect((await apiVehicles(sim, token)).status).to.equal(401);

      const audit = sim.world.audit.forOwner('owner-1').filter((e) => e.clientId === 'revoke-me' && e.action === 'auth.revoked');
      expect(audit).to.have.length(1);
      expect(audit[0].outcome).to.equal('ok');
      const alerts = sim.world.alerts.forOwner('owner-1').filter((a) => a.clientId === 'revoke-me');
      expect(alerts.map((a) => a.kind)).to.deep.equal(['app-revoked']);

      const body = await (await get(sim, '/owner/apps?notice=revoked', owner1)).text();
      expect(body).to.contain('Access revoked.');
      const revokedSection = body.slice(body.indexOf('Recently revoked'));
      expect(revokedSection).to.contain('Revoke-me app');
      expect(body).not.to.contain(`action="/owner/apps/${grantId}/revoke"`);

      // A second press changes nothing and records nothing twice.
      expect((await postForm(sim, `/owner/apps/${grantId}/revoke`, {}, owner1)).status).to.equal(303);
      expect(sim.world.audit.forOwner('owner-1').filter((e) => e.clientId === 'revoke-me' && e.action === 'auth.revoked')).to.have.length(1);
    });

    it('answers 404 for a grant of another owner, or none, and touches nothing', async () => {
      sim.world.store.addClient({ id: 'not-yours', secret: 's', name: 'Not yours', redirectUris: [], grants: ['authorization_code'] });
      const { token, grantId } = mintToken(sim, 'owner-2', ['read:status'], { clientId: 'not-yours' });
      const revoke = await postForm(sim, `/owner/apps/${grantId}/revoke`, {}, owner1);
      expect(revoke.status).to.equal(404);
      expect(await revoke.text()).not.to.contain('Not yours');
      const allow = await postForm(sim, `/owner/apps/${grantId}/ip-allow-list`, { ipAllowList: '10.0.0.1' }, owner1);
      expect(allow.status).to.equal(404);
      const grant = sim.world.store.grants.get(grantId);
      expect(grant?.revokedAt).to.equal(undefined);
      expect(grant?.ipAllowList).to.deep.equal([]);
      expect(sim.world.store.checkAccessToken(token).ok).to.equal(true);
      expect((await postForm(sim, '/owner/apps/grant-999999/revoke', {}, owner1)).status).to.equal(404);
    });

    it('refuses a form posted from another origin (another port on the same host is still "same site")', async () => {
      sim.world.store.addClient({ id: 'csrf-app', secret: 's', name: 'CSRF target', redirectUris: [], grants: ['authorization_code'] });
      const { grantId } = mintToken(sim, 'owner-1', ['read:status'], { clientId: 'csrf-app' });
      const post = (origin: string) =>
        fetch(`${sim.url}/owner/apps/${grantId}/revoke`, { method: 'POST', headers: { cookie: owner1, origin }, body: new URLSearchParams({}), redirect: 'manual' });
      expect((await post('http://127.0.0.1:1')).status).to.equal(403);
      expect((await post('null')).status).to.equal(403);
      expect(sim.world.store.grants.get(grantId)?.revokedAt).to.equal(undefined);
      expect((await post(sim.url)).status).to.equal(303);
      expect(sim.world.store.grants.get(grantId)?.revokedAt).to.be.a('number');
    });
  });

  describe('IP allow-list', () => {
    let grantId: string;
    before(() => {
      sim.world.store.addClient({ id: 'ip-app', secret: 's', name: 'IP app', redirectUris: [], grants: ['authorization_code'] });
      grantId = mintToken(sim, 'owner-1', ['read:status'], { clientId: 'ip-app' }).grantId;
    });

    it('saves addresses and ranges, records the change, shows them', async () => {
      const res = await postForm(sim, `/owner/apps/${grantId}/ip-allow-list`, { ipAllowList: '127.0.0.1\n10.0.0.0/8, ::1' }, owner1);
      expect(res.status).to.equal(303);
      expect(res.headers.get('location')).to.equal('/owner/apps?notice=saved');
      expect(sim.world.store.grants.get(grantId)?.ipAllowList).to.deep.equal(['127.0.0.1', '10.0.0.0/8', '::1']);
      const body = await (await get(sim, '/owner/apps', owner1)).text();
      expect(body).to.contain('<code>10.0.0.0/8</code>');
      const record = sim.world.audit.forOwner('owner-1').find((e) => e.clientId === 'ip-app' && e.action === 'auth.ip-allow-list');
      expect(record?.detail).to.contain('10.0.0.0/8');
    });

    it('records the owner\'s own address, not an X-Forwarded-For claim, and saves from any loopback address', async () => {
      try {
        const res = await requestFrom(`${sim.url}/owner/apps/${grantId}/ip-allow-list`, {
          method: 'POST',
          localAddress: '127.0.0.2',
          headers: { cookie: owner1, 'content-type': 'application/x-www-form-urlencoded', 'X-Forwarded-For': '10.1.2.3' },
          body: new URLSearchParams({ ipAllowList: '127.0.0.2' }).toString(),
        });
        expect(res.status).to.equal(303);
        expect(sim.world.store.grants.get(grantId)?.ipAllowList).to.deep.equal(['127.0.0.2']);
        const record = sim.world.audit.forOwner('owner-1').find((e) => e.clientId === 'ip-app' && e.action === 'auth.ip-allow-list');
        expect(record?.ip).to.equal('127.0.0.2');
        const page = await requestFrom(`${sim.url}/owner/apps`, { localAddress: '127.0.0.2', headers: { cookie: owner1 } });
        expect(page.status).to.equal(200);
        expect(page.text).to.contain('<code>127.0.0.2</code>');
      } finally {
        // Put back what the next test expects.
        sim.world.store.grants.get(grantId)!.ipAllowList = ['127.0.0.1', '10.0.0.0/8', '::1'];
      }
    });

    it('refuses bad input with 400, shows the error escaped and keeps the old list', async () => {
      const res = await postForm(sim, `/owner/apps/${grantId}/ip-allow-list`, { ipAllowList: '10.0.0.1\n<b>999.1.1.1</b>' }, owner1);
      expect(res.status).to.equal(400);
      const body = await res.text();
      expect(body).to.contain('class="error"');
      expect(body).to.contain('&quot;&lt;b&gt;999.1.1.1&lt;/b&gt;&quot; is not an IP address or CIDR range');
      expect(body).not.to.contain('<b>999');
      expect(body).to.match(/<textarea[^>]*>10\.0\.0\.1\n&lt;b&gt;999\.1\.1\.1&lt;\/b&gt;<\/textarea>/);
      expect(sim.world.store.grants.get(grantId)?.ipAllowList).to.deep.equal(['127.0.0.1', '10.0.0.0/8', '::1']);
      expect((await postForm(sim, `/owner/apps/${grantId}/ip-allow-list`, { ipAllowList: '10.0.0.0/33' }, owner1)).status).to.equal(400);
      expect((await postForm(sim, `/owner/apps/${grantId}/ip-allow-list`, {}, owner1)).status).to.equal(400);
      expect(sim.world.store.grants.get(grantId)?.ipAllowList).to.have.length(3);
    });

    it('empty means any address', async () => {
      expect((await postForm(sim, `/owner/apps/${grantId}/ip-allow-list`, { ipAllowList: '  \n ' }, owner1)).status).to.equal(303);
      expect(sim.world.store.grants.get(grantId)?.ipAllowList).to.deep.equal([]);
      const body = await (await get(sim, '/owner/apps', owner1)).text();
      expect(body.slice(body.indexOf('id="' + grantId + '"'))).to.contain('Any address');
    });
  });

  describe('Audit log', () => {
    it('shows the owner\u2019s records newest first, masked, escaped, redacted, and filters them', async () => {
      const vehicle = sim.world.fleet.ownedBy('owner-1')[0];
      const client = sim.world.options.demoClient.id;
      sim.world.audit.record({ ownerId: 'owner-1', clientId: client, vehicleId: vehicle.id, action: 'status.read', outcome: 'ok', detail: 'first-record', ip: '127.0.0.1' });
      sim.world.clock.advance(1000);
      sim.world.audit.record({ ownerId: 'owner-1', clientId: client, vehicleId: vehicle.id, action: 'lock', outcome: 'denied', detail: '<script>alert(1)</script>', ip: '10.1.2.3', httpStatus: 403 });
      sim.world.audit.record({ ownerId: 'owner-1', clientId: 'other-client', action: 'token.refresh', outcome: 'failed', detail: 'sent Bearer abc.def-ghi and ?code=xyz123' });
      sim.world.audit.record({ ownerId: 'owner-2', clientId: client, action: 'status.read', outcome: 'ok', detail: 'partner-only-record' });

      const res = await get(sim, '/owner/audit', owner1);
      expect(res.status).to.equal(200);
      const body = await res.text();
      expect(body).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(body).not.to.contain('<script>');
      expect(body).to.contain('Bearer [redacted]');
      expect(body).to.contain('?code=[redacted]');
      expect(body).not.to.contain('abc.def-ghi');
      expect(body).not.to.contain('xyz123');
      expect(body).not.to.contain('partner-only-record');
      expect(body).to.contain(`…${vehicle.vin.slice(-4)}`);
      expect(body).not.to.contain(vehicle.vin);
      expect(body).to.contain('<td class="denied">denied');
      expect(body).to.contain('10.1.2.3');
      expect(body.indexOf('&lt;script&gt;')).to.be.lessThan(body.indexOf('first-record'));

      const denied = await (await get(sim, '/owner/audit?outcome=denied', owner1)).text();
      expect(denied).to.contain('&lt;script&gt;');
      expect(denied).not.to.contain('first-record');
      const byApp = await (await get(sim, '/owner/audit?app=other-client', owner1)).text();
      expect(byApp).to.contain('token.refresh');
      expect(byApp).not.to.contain('first-record');
      const byVehicle = await (await get(sim, `/owner/audit?vehicle=${encodeURIComponent(vehicle.id)}`, owner1)).text();
      expect(byVehicle).to.contain('first-record');
      expect(byVehicle).not.to.contain('token.refresh');
      const none = await (await get(sim, '/owner/audit?outcome=%3Cx%3E', owner1)).text();
      expect(none).to.contain('No records match this filter');
    });
  });

  describe('Alerts', () => {
    it('lists the owner\u2019s alerts newest first, escaped', async () => {
      sim.world.alerts.raise('owner-1', 'demo-client', 'app-connected', 'older-alert');
      sim.world.clock.advance(1000);
      sim.world.alerts.raise('owner-1', 'demo-client', 'sensitive-scope-granted', 'newer <i>alert</i>');
      sim.world.alerts.raise('owner-2', 'demo-client', 'ip-blocked', 'partner-alert');
      const res = await get(sim, '/owner/alerts', owner1);
      expect(res.status).to.equal(200);
      const body = await res.text();
      expect(body).to.contain('newer &lt;i&gt;alert&lt;/i&gt;');
      expect(body).to.contain('Sensitive right granted');
      expect(body).not.to.contain('partner-alert');
      expect(body.indexOf('newer &lt;i&gt;')).to.be.lessThan(body.indexOf('older-alert'));
      expect(await (await get(sim, '/owner/alerts', owner2)).text()).to.contain('partner-alert');
    });
  });
});
