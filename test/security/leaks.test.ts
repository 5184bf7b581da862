import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import type { AuditRecord } from '../../src/lib/audit';
import { vehicleIdFromVin } from '../../src/lib/api/fcon-query';
import { commandRunner } from '../../src/lib/commands';
import { consentAt } from '../helpers/consent';
import { findLeaks } from '../helpers/leak-scan';
import { isApiExchange } from '../helpers/recording-sim';
import { SecureFlow, secureIt, vehiclesOf } from '../helpers/secure-flow';
import { describeSecurity } from '../helpers/security-suite';
import { accountNode, realPause, until, vehicleNode } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const SEC = 1000;
const ALL = ['read:status', 'read:location', 'command:lock', 'command:remote-start', 'command:horn-lights', 'command:charge'];

function actions(audit: AuditRecord[]): string[] {
  return audit.map((r) => `${r.action}:${r.outcome}`);
}

describeSecurity('security: no secret leaves the kit (every node type, success, refusal and failure, against a recording simulator)', function () {
  this.timeout(30_000);

  secureIt('FordConnect v1, everything granted: status, refresh, location, lock, unlock, remote start and stop, horn, charge, schedules, the ICE refusal, a cooldown', async (f, v) => {
    await f.load([
      accountNode(f.sim.url, ALL, { auditFile: f.auditFileOf('acc') }),
      ...vehicleNode('ford-status', 's1', { vehicleId: v.bev, interval: 30, output: 'always' }),
      ...vehicleNode('ford-status', 's2', { vehicleId: v.truck, interval: 0, output: 'changes' }),
      ...vehicleNode('ford-location', 'l1', { vehicleId: v.bev, optIn: true, interval: 30, precision: 0, output: 'always' }),
      ...vehicleNode('ford-location', 'l2', { vehicleId: v.truck, optIn: true, interval: 0, precision: 100, output: 'changes', minDistance: 50 }),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: v.truck, action: 'msg', confirm: true, timeout: 60 }),
      ...vehicleNode('ford-remote-start', 'r1', { vehicleId: v.truck, action: 'msg', confirm: true, timeout: 60 }),
      ...vehicleNode('ford-horn-lights', 'h1', { vehicleId: v.truck, timeout: 60 }),
      ...vehicleNode('ford-charge', 'c1', { vehicleId: v.bev, action: 'msg', interval: 300, timeout: 60 }),
      ...vehicleNode('ford-charge', 'c2', { vehicleId: v.truck, action: 'start', interval: 0, timeout: 60 }),
    ]);
    await f.authorize(ALL);
    await f.clock.tickAsync(0);
    await until(() => f.of('s1').out.length >= 1 && f.of('l1').out.length >= 1, 'the first polls');
    expect((await f.admin('GET', '/ford-connect/accounts/acc/vehicles')).status).to.equal(200);

    helper.getNode('s2').receive({});
    helper.getNode('l2').receive({});
    await until(() => f.of('s2').out.length === 1 && f.of('l2').out.length === 1, 'input reads');
    helper.getNode('s2').receive({ refresh: true });
    await f.settle(() => f.of('s2').out.length === 2, 'the refreshed status');

    const k1 = f.of('k1');
    helper.getNode('k1').receive({ payload: 'lock' });
    await f.settle(() => k1.out.length === 1, 'the lock result');
    helper.getNode('k1').receive({ payload: 'unlock' });
    await until(() => k1.out.length === 2, 'the unlock confirmation request');
    helper.getNode('k1').receive({ confirm: k1.out[1].confirm });
    await f.settle(() => k1.out.length === 3, 'the unlock result');
    expect(actions(k1.audit)).to.include.members(['lock:ok', 'unlock:pending-confirmation', 'unlock:ok']);

    const r1 = f.of('r1');
    helper.getNode('r1').receive({ payload: 'start' });
    await until(() => r1.out.length === 1, 'the start confirmation request');
    helper.getNode('r1').receive({ confirm: (r1.out[0].confirm as { id: string }).id });
    await f.settle(() => r1.out.length === 2, 'the start result');
    helper.getNode('r1').receive({ payload: 'stop' });
    await f.settle(() => r1.out.length === 3, 'the stop result');
    expect(actions(r1.audit)).to.include.members(['remote-start:ok', 'remote-stop:ok']);

    helper.getNode('h1').receive({});
    await f.settle(() => f.of('h1').out.length === 1, 'the horn result');
    // Again at once: the cooldown refuses it before any request.
    helper.getNode('h1').receive({});
    await f.errorsReach('h1', 1);
    expect(f.of('h1').audit.at(-1)).to.include({ action: 'horn-lights', outcome: 'rate-limited' });

    const c1 = f.of('c1');
    helper.getNode('c1').receive({ payload: 'start' });
    await f.settle(() => c1.out.length === 1, 'the charge start');
    helper.getNode('c1').receive({ payload: 'stop' });
    await f.settle(() => c1.out.length === 2, 'the charge stop');
    helper.getNode('c1').receive({ topic: 'schedules' });
    await until(() => c1.out.length === 3, 'the schedules');
    helper.getNode('c2').receive({});
    await f.errorsReach('c2', 1);
    expect(String(f.errors('c2')[0])).to.match(/cannot charge/);

    // The next shared polls (a poll cut short by the fast fake clock above is retried with backoff).
    for (let i = 0; i < 20 && (f.of('s1').out.length < 2 || f.of('l1').out.length < 2); i++) await f.pass(30 * SEC);
    await until(() => f.of('s1').out.length >= 2 && f.of('l1').out.length >= 2, 'the next polls');
  }, {
    check: ({ f, secrets }) => {
      // Coordinates were handed out, and the scan knew them (they may only sit on output 1 of ford-location).
      expect(secrets.coordinates.size).to.be.greaterThan(1);
      const located = f.watch.captured.filter((c) => c.source === 'output1' && c.nodeType === 'ford-location');
      expect(findLeaks(located.map((c) => ({ ...c, source: 'log' as const })), secrets).some((l) => l.kind === 'coordinate'), 'the scan sees the coordinates where they are allowed').to.equal(true);
    },
  });

  secureIt('refusals: scopes not ticked or not granted, location not opted in, an account never authorized, no account, no vehicle, an unknown action, forged confirmations', async (f, v) => {
    await f.load([
      accountNode(f.sim.url, ['read:status', 'command:horn-lights', 'command:lock'], { auditFile: f.auditFileOf('acc') }),
      { id: 'acc2', type: 'ford-account', name: 'Never authorized', preset: 'simulator', apiUrl: f.sim.url, grant: 'authorization_code', redirectUri: 'http://127.0.0.1:1880/ford-connect/auth/callback', scopes: ALL },
      ...vehicleNode('ford-status', 's1', { vehicleId: v.truck, interval: 0, output: 'always' }),
      ...vehicleNode('ford-status', 's0', { vehicleId: '', interval: 0, output: 'always' }),
      ...vehicleNode('ford-status', 's2', { account: 'acc2', vehicleId: v.truck, interval: 30, output: 'always' }),
      ...vehicleNode('ford-status', 'sx', { account: 'no-such-account', vehicleId: v.truck, interval: 0, output: 'always' }),
      ...vehicleNode('ford-location', 'l0', { vehicleId: v.truck, optIn: false, interval: 30, precision: 0, output: 'always' }),
      ...vehicleNode('ford-location', 'l1', { vehicleId: v.truck, optIn: true, interval: 30, precision: 0, output: 'always' }),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: v.truck, action: 'unlock', confirm: true }),
      ...vehicleNode('ford-lock', 'k2', { vehicleId: v.truck, action: 'explode' }),
      ...vehicleNode('ford-remote-start', 'r1', { vehicleId: v.truck, action: 'start', confirm: false }),
      ...vehicleNode('ford-horn-lights', 'h1', { vehicleId: v.truck }),
      ...vehicleNode('ford-horn-lights', 'h2', { account: 'acc2', vehicleId: v.truck }),
      // interval 0: no charging-state poll of their own, so every request after the mark is one a message asked for.
      ...vehicleNode('ford-charge', 'c1', { vehicleId: v.bev, action: 'start', interval: 0 }),
      ...vehicleNode('ford-charge', 'c2', { account: 'acc2', vehicleId: v.bev, action: 'msg', interval: 0 }),
    ]);
    // The owner grants status and lock only: horn-lights stays ticked but not granted.
    await f.authorize(['read:status', 'command:lock']);
    await f.clock.tickAsync(0);
    const mark = f.rec.exchanges.length;
    const expectErrors: Record<string, number> = {};
    const send = (id: string, msg: Record<string, unknown>): void => {
      expectErrors[id] = (expectErrors[id] ?? 0) + 1;
      helper.getNode(id).receive(msg);
    };
    send('s0', {});
    send('s2', {});
    send('sx', {});
    send('l0', {});
    send('l1', {});
    send('k2', { payload: 'lock' });
    send('r1', {});
    send('h1', {});
    send('h2', {});
    send('c1', {});
    send('c2', { payload: 'start' });
    send('c2', { topic: 'schedules' });
    // Forged confirmations of an unlock nobody asked for.
    for (const confirm of [true, 'yes', 1, { id: 'guessed-id' }, { id: { toString: () => 'x' } }, ['x']]) send('k1', { confirm });
    for (const [id, n] of Object.entries(expectErrors)) await f.errorsReach(id, n);
    expect(f.since(mark).filter(isApiExchange).map((x) => `${x.method} ${x.path}`), 'API requests for refused messages').to.deep.equal([]);
    for (const id of ['s2', 'l0', 'l1', 'r1', 'h1', 'h2', 'c1', 'c2']) expect(f.of(id).audit.some((r) => r.outcome === 'denied'), `${id} audits a denial`).to.equal(true);
    expect(f.of('k1').audit.filter((r) => r.action === 'unlock' && r.outcome === 'denied')).to.have.length(6);

    // What is granted still works, and the unlock still asks.
    helper.getNode('s1').receive({});
    await until(() => f.of('s1').out.length === 1, 'the status read');
    helper.getNode('k1').receive({});
    await until(() => f.of('k1').out.length === 1, 'the unlock confirmation request');
    expect(f.since(mark).filter((x) => x.path.includes('/unlock')).map((x) => x.path)).to.deep.equal([]);
  });

  secureIt('failure paths: 503, 429, offline vehicle, command timeout, expired token and refresh, step-up and re-authorization, revocation on the Connected Apps page, disconnect', async (f, v) => {
    await f.load([
      accountNode(f.sim.url, ALL, { auditFile: f.auditFileOf('acc') }),
      ...vehicleNode('ford-status', 's1', { vehicleId: v.truck, interval: 0, output: 'always' }),
      ...vehicleNode('ford-location', 'l1', { vehicleId: v.truck, optIn: true, interval: 0, precision: 0, output: 'always' }),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: v.truck, action: 'msg', confirm: false, timeout: 5, cooldown: 0 }),
      ...vehicleNode('ford-remote-start', 'r1', { vehicleId: v.truck, action: 'start', confirm: false, timeout: 5 }),
      ...vehicleNode('ford-charge', 'c1', { vehicleId: v.bev, action: 'start', interval: 0, timeout: 5 }),
    ]);
    await f.authorize(ALL);
    const s1 = f.of('s1');

    f.sim.world.faults.errorRate = 1;
    helper.getNode('s1').receive({});
    helper.getNode('l1').receive({});
    helper.getNode('k1').receive({ payload: 'lock' });
    helper.getNode('c1').receive({ topic: 'schedules' });
    await f.errorsReach('s1', 1);
    await f.errorsReach('l1', 1);
    await f.errorsReach('k1', 1);
    await f.errorsReach('c1', 1);
    f.sim.world.faults.errorRate = 0;
    expect(s1.audit.at(-1)).to.include({ outcome: 'failed', httpStatus: 503 });

    f.sim.world.faults.rateLimitRate = 1;
    helper.getNode('s1').receive({ refresh: true });
    helper.getNode('k1').receive({ payload: 'unlock' });
    await f.errorsReach('s1', 2);
    await f.errorsReach('k1', 2);
    f.sim.world.faults.rateLimitRate = 0;
    expect(s1.audit.at(-1)?.outcome).to.equal('rate-limited');
    // Past every Retry-After.
    await f.pass(60 * SEC);

    // The truck's modem does not answer: the command times out (or fails), audited either way.
    f.sim.world.faults.offlineVehicles = [v.truck];
    helper.getNode('k1').receive({ payload: 'lock' });
    await f.settle(() => f.errors('k1').length === 3, 'the offline command to end');
    f.sim.world.faults.offlineVehicles = [];

    // Expired tokens: one refresh, then the read goes through.
    f.sim.world.store.expireAllAccessTokens();
    await f.pass(60 * SEC);
    helper.getNode('s1').receive({});
    await until(() => s1.out.length === 1, 'the status after a refresh');
    expect(f.account.auditRing.list().map((r) => `${r.action}:${r.outcome}`)).to.include('token.refresh:ok');

    // Step-up: the API asks for a fresh sign-in; Authorize asks the provider for one, and the start goes through.
    f.sim.world.faults.stepUpMaxAgeSeconds = 60;
    f.sim.world.clock.advance(5 * 60 * SEC);
    helper.getNode('r1').receive({});
    await f.errorsReach('r1', 1);
    expect(f.of('r1').audit.at(-1)).to.include({ action: 'remote-start', outcome: 'denied', httpStatus: 401 });
    await f.authorize(ALL);
    helper.getNode('r1').receive({});
    await f.settle(() => f.of('r1').out.length === 1, 'the start after a fresh sign-in');
    f.sim.world.faults.stepUpMaxAgeSeconds = 0;

    // The owner revokes the app: re-authorization needed, one auth.revoked record.
    expect(await f.revokeOnConnectedAppsPage()).to.be.greaterThan(0);
    await f.pass(60 * SEC);
    helper.getNode('s1').receive({});
    await f.errorsReach('s1', 3);
    expect(f.account.state).to.equal('reauth-needed');
    expect(f.account.auditRing.list().some((r) => r.action === 'auth.revoked')).to.equal(true);
    expect((await f.admin('GET', '/ford-connect/accounts/acc/vehicles')).status).to.equal(409);

    // Authorized again, then disconnected: tokens revoked at the provider and forgotten.
    await f.authorize(ALL);
    const disconnected = await f.admin('POST', '/ford-connect/accounts/acc/disconnect', {});
    expect(disconnected.body).to.include({ disconnected: true, revokedAtProvider: true });
    helper.getNode('s1').receive({});
    await f.errorsReach('s1', 4);
  });

  secureIt('FordConnect Query (VINs on the wire): status, location, schedules, commands and refresh refused, an HTML 401, a 429 without Retry-After', async (f, v) => {
    const vin = f.sim.world.fleet.get(v.bev)?.spec.vin as string;
    const queryId = vehicleIdFromVin(vin);
    const scopes = ['read:status', 'read:location', 'command:lock', 'command:charge'];
    await f.load([
      accountNode(f.sim.url, scopes, { apiFlavour: 'fcon-query', auditFile: f.auditFileOf('acc') }),
      ...vehicleNode('ford-status', 's1', { vehicleId: queryId, interval: 0, output: 'always' }),
      ...vehicleNode('ford-location', 'l1', { vehicleId: queryId, optIn: true, interval: 0, precision: 0, output: 'always' }),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: queryId, action: 'lock' }),
      ...vehicleNode('ford-charge', 'c1', { vehicleId: queryId, action: 'start', interval: 0 }),
    ]);
    const start = await f.admin('POST', '/ford-connect/accounts/acc/authorize', {});
    const redirect = new URL(await consentAt((start.body as { url: string }).url, { vehicles: [v.bev], categories: ['status', 'location', 'evData', 'health'] }));
    expect((await f.admin('GET', `/ford-connect/auth/callback${redirect.search}`)).text).to.match(/Connected/);
    expect((await f.admin('GET', '/ford-connect/accounts/acc/vehicles')).status).to.equal(200);

    helper.getNode('s1').receive({});
    helper.getNode('l1').receive({});
    helper.getNode('c1').receive({ topic: 'schedules' });
    await until(() => f.of('s1').out.length === 1 && f.of('l1').out.length === 1 && f.of('c1').out.length === 1, 'status, location and schedules');
    helper.getNode('k1').receive({});
    helper.getNode('c1').receive({});
    helper.getNode('s1').receive({ refresh: true });
    await f.errorsReach('k1', 1);
    await f.errorsReach('c1', 1);
    await f.errorsReach('s1', 1);

    f.sim.world.faults.html401Rate = 1;
    await f.pass(60 * SEC);
    helper.getNode('s1').receive({ vehicleId: queryId });
    await f.errorsReach('s1', 2);
    f.sim.world.faults.html401Rate = 0;
    f.sim.world.faults.rateLimitNoRetryAfterRate = 1;
    await f.pass(60 * SEC);
    helper.getNode('l1').receive({});
    await f.errorsReach('l1', 1);
    f.sim.world.faults.rateLimitNoRetryAfterRate = 0;
  }, {
    check: ({ f, secrets }) => {
      // The simulator did hand out VINs over this API.
      const vins = [...secrets.vins];
      expect(f.rec.exchanges.some((x) => vins.some((vin) => x.responseBody.includes(vin)))).to.equal(true);
    },
  });

  secureIt('a fleet account with client credentials: status, location, a command, a token fetched again after expiry', async (f) => {
    const vans = f.ownedVehicles('owner-fleet');
    await f.load(
      [
        accountNode(f.sim.url, ALL, { grant: 'client_credentials', auditFile: f.auditFileOf('acc') }),
        ...vehicleNode('ford-status', 's1', { vehicleId: vans[0].id, interval: 0, output: 'always' }),
        ...vehicleNode('ford-location', 'l1', { vehicleId: vans[1].id, optIn: true, interval: 0, precision: 0, output: 'always' }),
        ...vehicleNode('ford-horn-lights', 'h1', { vehicleId: vans[0].id }),
      ],
      { acc: { clientId: 'fleet-client', clientSecret: 'fleet-secret' } },
    );
    const connected = await f.admin('POST', '/ford-connect/accounts/acc/authorize', {});
    expect(connected.body).to.include({ connected: true });
    helper.getNode('s1').receive({});
    helper.getNode('l1').receive({});
    await until(() => f.of('s1').out.length === 1 && f.of('l1').out.length === 1, 'status and location');
    helper.getNode('h1').receive({});
    await f.settle(() => f.of('h1').out.length === 1, 'the horn');
    f.sim.world.store.expireAllAccessTokens();
    await f.pass(60 * SEC);
    helper.getNode('s1').receive({});
    await until(() => f.of('s1').out.length === 2, 'a status with a new token');
  });

  secureIt('the editor endpoints when things go wrong: a wrong client secret, a denied consent, a replayed or foreign state, a code for another verifier, bad pastes', async (f, v) => {
    const dialog = (extra: Record<string, unknown> = {}) => ({ preset: 'simulator', apiUrl: f.sim.url, grant: 'authorization_code', redirectUri: 'http://127.0.0.1:1880/ford-connect/auth/callback', scopes: ['read:status'], clientId: 'demo-client', ...extra });
    await f.load(
      [accountNode(f.sim.url, ['read:status'], { auditFile: f.auditFileOf('acc') }), ...vehicleNode('ford-status', 's1', { vehicleId: v.truck, interval: 0, output: 'always' })],
      { acc: { clientId: 'demo-client', clientSecret: 'demo-secret' } },
    );

    // A secret typed wrong in the dialog: the token endpoint refuses; no answer repeats it.
    f.typedSecrets.push(['typed-wrong-secret-1234', 'client secret']);
    const wrong = await f.admin('POST', '/ford-connect/accounts/acc/authorize', dialog({ clientSecret: 'typed-wrong-secret-1234' }));
    const wrongRedirect = new URL(await consentAt((wrong.body as { url: string }).url, { tick: ['read:status'] }));
    const failed = await f.admin('GET', `/ford-connect/auth/callback${wrongRedirect.search}`);
    expect(failed.status).to.equal(400);
    expect(failed.text).to.match(/Authorization failed/);
    f.typedSecrets.push(['typed-wrong-fleet-5678', 'client secret']);
    const cc = await f.admin('POST', '/ford-connect/accounts/acc/authorize', dialog({ grant: 'client_credentials', clientId: 'fleet-client', clientSecret: 'typed-wrong-fleet-5678' }));
    expect(cc.status).to.be.oneOf([400, 502]);

    // Denied on the consent page.
    const denied = await f.admin('POST', '/ford-connect/accounts/acc/authorize', {});
    const deniedRedirect = new URL(await consentAt((denied.body as { url: string }).url, { decision: 'deny' }));
    expect((await f.admin('GET', `/ford-connect/auth/callback${deniedRedirect.search}`)).status).to.equal(400);

    // Connected; the same callback again is a replay; a made-up state is foreign.
    const ok = await f.admin('POST', '/ford-connect/accounts/acc/authorize', {});
    const okRedirect = new URL(await consentAt((ok.body as { url: string }).url, { tick: ['read:status'] }));
    expect((await f.admin('GET', `/ford-connect/auth/callback${okRedirect.search}`)).text).to.match(/Connected/);
    expect((await f.admin('GET', `/ford-connect/auth/callback${okRedirect.search}`)).status).to.equal(400);
    expect((await f.admin('GET', `/ford-connect/auth/callback?code=${okRedirect.searchParams.get('code')}&state=0123456789abcdef`)).status).to.equal(400);

    // A code issued for one authorization, brought back with the state of another: PKCE refuses it.
    const first = await f.admin('POST', '/ford-connect/accounts/acc/authorize', {});
    const firstRedirect = new URL(await consentAt((first.body as { url: string }).url, { tick: ['read:status'] }));
    const second = await f.admin('POST', '/ford-connect/accounts/acc/authorize', {});
    const secondState = new URL((second.body as { url: string }).url).searchParams.get('state') as string;
    const swapped = await f.admin('GET', `/ford-connect/auth/callback?code=${encodeURIComponent(firstRedirect.searchParams.get('code') as string)}&state=${secondState}`);
    expect(swapped.status).to.equal(400);

    // Pastes: garbage, a foreign address, then a good one.
    for (const url of ['not a url', 'http://127.0.0.1:1880/ford-connect/auth/callback?code=abc&state=ffff0000ffff0000', 42, { url: 'x' }]) {
      expect((await f.admin('POST', '/ford-connect/accounts/acc/paste', { url })).status).to.equal(400);
    }
    const third = await f.admin('POST', '/ford-connect/accounts/acc/authorize', {});
    const thirdRedirect = await consentAt((third.body as { url: string }).url, { tick: ['read:status'] });
    expect((await f.admin('POST', '/ford-connect/accounts/acc/paste', { url: thirdRedirect })).body).to.include({ connected: true });
    helper.getNode('s1').receive({});
    await until(() => f.of('s1').out.length === 1, 'a status read');
    // Every authorization that finished, was refused or failed left an auth.grant record on the account.
    const grants = f.account.auditRing.list().filter((r) => r.action === 'auth.grant').reverse().map((r) => `${r.outcome}: ${r.detail.split(':')[0]}`);
    expect(grants).to.deep.equal([
      'failed: callback',
      'failed: client credentials',
      'denied: callback',
      'ok: authorized through the callback; granted',
      'failed: callback',
      'denied: pasted redirect refused',
      'ok: authorized through a pasted redirect; granted',
    ]);
    // Editor answers for accounts that are not deployed.
    expect((await f.admin('GET', '/ford-connect/accounts/nope')).status).to.equal(200);
    expect((await f.admin('GET', '/ford-connect/accounts/nope/vehicles')).status).to.equal(404);
    expect((await f.admin('POST', '/ford-connect/accounts/nope/disconnect', dialog({ clientSecret: 'demo-secret' }))).status).to.equal(200);
  });

  it('the scanner finds what it is for: a token, a refresh token, a code, a verifier, a secret, a VIN, a full vehicle id and a coordinate planted in captured text', async () => {
    commandRunner.reset();
    const f = new SecureFlow();
    await f.start();
    let planted: { token: string; refresh: string; code: string; verifier: string; vin: string; id: string; lat: number };
    try {
      const { truck } = vehiclesOf(f);
      await f.load([accountNode(f.sim.url, ['read:status', 'read:location']), ...vehicleNode('ford-location', 'l1', { vehicleId: truck, optIn: true, interval: 0, precision: 0, output: 'always' })]);
      await f.authorize(['read:status', 'read:location']);
      helper.getNode('l1').receive({});
      await until(() => f.of('l1').out.length === 1, 'a location');
      const lat = (f.of('l1').out[0].payload as { latitude: number }).latitude;
      const { store } = f.sim.world;
      planted = {
        token: [...store.accessTokens.keys()][0],
        refresh: [...store.refreshTokens.keys()][0],
        code: [...store.codes.keys()][0],
        verifier: f.watch.verifiers[0],
        vin: f.sim.world.fleet.get(truck)?.spec.vin as string,
        id: truck,
        lat,
      };
      await realPause(10);
    } catch (err) {
      await f.abandon();
      throw err;
    }
    const result = await f.finish();
    expect(result.leaks, result.report).to.deep.equal([]);
    const secrets = result.secrets;
    const plant = (source: 'log' | 'status' | 'audit' | 'error', text: string) => [{ source, where: 'planted', strings: [text] }];
    const kinds = (text: string, source: 'log' | 'status' | 'audit' | 'error' = 'log') => findLeaks(plant(source, text), secrets).map((l) => l.kind);
    expect(kinds(`GET /x Authorization: Bearer ${planted.token}`)).to.include('access token');
    expect(kinds(`refresh=${planted.refresh.slice(0, 20)}`)).to.include('refresh token');
    expect(kinds(`code ${planted.code}`, 'status')).to.include('authorization code');
    expect(kinds(`verifier ${planted.verifier}`, 'audit')).to.include('PKCE verifier');
    expect(kinds('client_secret=demo-secret', 'error')).to.include('client secret');
    expect(kinds(`vin ${planted.vin.toLowerCase()}`)).to.include('VIN');
    expect(kinds(`vehicle ${planted.id}`, 'audit')).to.include('vehicle id');
    for (const spelling of [planted.lat.toFixed(4), planted.lat.toFixed(6), `-${planted.lat.toFixed(5)}`, planted.lat.toFixed(4).replace('.', ','), JSON.stringify({ lat: planted.lat })]) {
      expect(kinds(`at ${spelling} now`), spelling).to.include('coordinate');
    }
    // Coarser than 4 decimals is not a coordinate leak; neither are ordinary numbers.
    expect(kinds(`at ${planted.lat.toFixed(2)} · 62% · 241.3 kPa · 9210.8 km`)).to.deep.equal([]);
  });
});
