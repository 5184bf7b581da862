import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import type { AuditRecord } from '../../src/lib/audit';
import { roundPosition } from '../../src/lib/api/status';
import { isApiExchange, type SimExchange } from '../helpers/recording-sim';
import { secureIt, type SecureFlow } from '../helpers/secure-flow';
import { describeSecurity } from '../helpers/security-suite';
import { accountNode, until, vehicleNode } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const ALL = ['read:status', 'read:location', 'command:lock', 'command:remote-start', 'command:horn-lights', 'command:charge'];
const REDIRECT = 'http://127.0.0.1:1880/ford-connect/auth/callback';

/** A server that must never be called: it counts whatever reaches it. */
async function startTrap(): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"trap","vehicles":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Every msg property a flow might try to widen its rights with, pointing at another account, API and token. */
function forgery(trapUrl: string, stolenToken: string): Record<string, unknown> {
  return {
    scope: 'command:lock',
    scopes: ALL,
    grantedScopes: ALL,
    account: 'acc2',
    accountId: 'acc2',
    config: { account: 'acc2', scopes: ALL, action: 'unlock', confirm: false },
    credentials: { clientId: 'demo-client', clientSecret: 'forged-secret', accessToken: stolenToken, refreshToken: stolenToken },
    token: stolenToken,
    access_token: stolenToken,
    accessToken: stolenToken,
    authorization: `Bearer ${stolenToken}`,
    headers: { Authorization: `Bearer ${stolenToken}`, 'X-Forged': 'yes', 'Application-Id': 'forged-app' },
    preset: 'custom',
    apiFlavour: 'fordconnect-v1',
    apiUrl: trapUrl,
    baseUrl: trapUrl,
    url: trapUrl,
    authorizeUrl: `${trapUrl}/authorize`,
    tokenUrl: `${trapUrl}/token`,
    grant: 'client_credentials',
    optIn: true,
    precision: 0,
    action: 'unlock',
    command: 'unlock',
    cooldown: 0,
    timeout: 1,
    confirmWindow: 100000,
    skipConfirmation: true,
    confirmed: true,
  };
}

/** The bearer of an API exchange, and the grant the simulator issued it under. */
function grantOf(f: SecureFlow, x: SimExchange): string | undefined {
  const bearer = /^Bearer\s+(\S+)/.exec(String(x.headers.authorization ?? ''))?.[1];
  return bearer ? f.sim.world.store.accessTokens.get(bearer)?.grantId : undefined;
}

function liveGrantOf(f: SecureFlow, accountId: string): string {
  const tokens = f.accountOf(accountId)?.tokens.currentTokens();
  const grant = tokens ? f.sim.world.store.accessTokens.get(tokens.accessToken)?.grantId : undefined;
  if (!grant) throw new Error(`account ${accountId} holds no live token`);
  return grant;
}

function outcomes(audit: AuditRecord[]): string[] {
  return audit.map((r) => `${r.action}:${r.scope}:${r.outcome}`);
}

describeSecurity('security: a flow cannot widen its own rights through msg properties', function () {
  this.timeout(30_000);
  let trap: Awaited<ReturnType<typeof startTrap>>;
  before(async () => {
    trap = await startTrap();
  });
  after(async () => {
    await trap.close();
  });

  secureIt('msg.scope(s), msg.account(Id), msg.credentials, msg.token, msg.headers, msg.apiUrl, msg.preset, msg.optIn add no scope, change no account and reach no other API', async (f, v) => {
    await f.load([
      accountNode(f.sim.url, ['read:status'], { auditFile: f.auditFileOf('acc') }),
      { id: 'acc2', type: 'ford-account', name: 'The other account', preset: 'simulator', apiUrl: f.sim.url, grant: 'authorization_code', redirectUri: REDIRECT, scopes: ALL },
      ...vehicleNode('ford-status', 's1', { vehicleId: v.truck, interval: 0, output: 'always' }),
      ...vehicleNode('ford-location', 'l1', { vehicleId: v.truck, optIn: true, interval: 0, precision: 0, output: 'always' }),
      ...vehicleNode('ford-location', 'l0', { vehicleId: v.truck, optIn: false, interval: 0, precision: 0, output: 'always' }),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: v.truck, action: 'lock' }),
      ...vehicleNode('ford-lock', 'k2', { vehicleId: v.truck, action: 'msg', confirm: true }),
      ...vehicleNode('ford-remote-start', 'r1', { vehicleId: v.truck, action: 'msg', confirm: true }),
      ...vehicleNode('ford-horn-lights', 'h1', { vehicleId: v.truck }),
      ...vehicleNode('ford-charge', 'c1', { vehicleId: v.bev, action: 'msg', interval: 0 }),
    ], { acc: { clientId: 'demo-client', clientSecret: 'demo-secret' }, acc2: { clientId: 'demo-client', clientSecret: 'demo-secret' } });
    // acc: the owner grants read:status only. acc2: everything, on its own grant.
    await f.authorize(['read:status']);
    const acc2 = await f.authorizeAccount('acc2', { tick: ALL });
    expect(acc2.text).to.match(/Connected/);
    const accGrant = liveGrantOf(f, 'acc');
    const acc2Grant = liveGrantOf(f, 'acc2');
    expect(accGrant).to.not.equal(acc2Grant);
    const stolen = f.accountOf('acc2')?.tokens.currentTokens()?.accessToken as string;
    // The flow carries it in its own messages: only a node repeating it outside the flow's data would be a leak.
    f.flowCarried.add(stolen);
    const acc2LastAccess = f.sim.world.store.grants.get(acc2Grant)?.lastAccessAt;
    const mark = f.rec.exchanges.length;

    const forged = forgery(trap.url, stolen);
    const errors: Record<string, number> = {};
    const send = (id: string, msg: Record<string, unknown>, refused = true): void => {
      if (refused) errors[id] = (errors[id] ?? 0) + 1;
      helper.getNode(id).receive({ ...forged, ...msg });
    };
    send('s1', {}, false);
    send('l1', {});
    send('l0', {});
    send('k1', { payload: 'unlock' });
    send('k2', { payload: 'unlock', confirm: undefined });
    send('r1', { payload: 'start', confirm: undefined });
    send('r1', { payload: 'stop', confirm: undefined });
    send('h1', {});
    send('c1', { payload: 'start', confirm: undefined });
    send('c1', { topic: 'schedules' }, false);
    await until(() => f.of('s1').out.length === 1 && f.of('c1').out.length === 1, 'the status and the schedules');
    for (const [id, n] of Object.entries(errors)) await f.errorsReach(id, n);

    // What reached the simulator: reads of the configured vehicles, with acc's own token, and nothing of the forgery.
    const api = f.since(mark).filter(isApiExchange);
    expect(api.map((x) => `${x.method} ${x.path}`).sort()).to.deep.equal([
      `GET /api/fordconnect/v1/vehicles/${v.bev}/chargeSchedules`,
      `GET /api/fordconnect/v1/vehicles/${v.bev}/departureTimes`,
      `GET /api/fordconnect/v3/vehicles/${v.truck}`,
    ]);
    for (const x of api) {
      expect(grantOf(f, x), `the grant behind ${x.path}`).to.equal(accGrant);
      expect(x.headers).to.not.have.property('x-forged');
      expect(x.headers['application-id']).to.not.equal('forged-app');
      expect(x.body === undefined || Object.keys(x.body as object).length === 0, `no body on ${x.path}`).to.equal(true);
    }
    expect(f.since(mark).filter((x) => !isApiExchange(x)).map((x) => `${x.method} ${x.path}`), 'token or owner requests').to.deep.equal([]);
    expect(trap.hits, 'requests to the forged API URL').to.deep.equal([]);
    expect(f.sim.world.store.grants.get(acc2Grant)?.lastAccessAt, "acc2's grant was not used").to.equal(acc2LastAccess);

    // And the audit records say what was refused, under the node's own action and scope.
    expect(outcomes(f.of('k1').audit)).to.include('lock:command:lock:denied');
    expect(outcomes(f.of('k1').audit).some((o) => o.startsWith('unlock'))).to.equal(false);
    expect(outcomes(f.of('k2').audit)).to.include('unlock:command:lock:denied');
    expect(outcomes(f.of('r1').audit)).to.include.members(['remote-start:command:remote-start:denied', 'remote-stop:command:remote-start:denied']);
    expect(outcomes(f.of('h1').audit)).to.include('horn-lights:command:horn-lights:denied');
    expect(outcomes(f.of('c1').audit)).to.include.members(['charge.start:command:charge:denied', 'status.read:read:status:ok']);
    expect(outcomes(f.of('l1').audit)).to.include('location.read:read:location:denied');
    expect(outcomes(f.of('l0').audit)).to.include('location.read:read:location:denied');
    expect(outcomes(f.of('s1').audit)).to.deep.equal(['status.read:read:status:ok']);
    expect(f.accountOf('acc')?.grantedScopes()).to.deep.equal(['read:status']);
  });

  secureIt('msg.action, msg.payload, msg.confirm (forged, from another node, or sent with the request) and msg.vehicleId on a confirmation neither change the action nor skip the confirmation', async (f, v) => {
    await f.load([
      accountNode(f.sim.url, ALL, { auditFile: f.auditFileOf('acc') }),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: v.truck, action: 'lock', confirm: true }),
      ...vehicleNode('ford-lock', 'k2', { vehicleId: v.truck, action: 'msg', confirm: true, confirmWindow: 60 }),
      ...vehicleNode('ford-remote-start', 'r1', { vehicleId: v.truck, action: 'msg', confirm: true }),
      ...vehicleNode('ford-location', 'l1', { vehicleId: v.truck, optIn: true, interval: 0, precision: 1000, output: 'always' }),
    ]);
    await f.authorize(ALL);
    const forged = forgery(trap.url, 'not-a-token-at-all');
    const mark = f.rec.exchanges.length;
    const commands = (): string[] => f.since(mark).filter((x) => isApiExchange(x) && x.method === 'POST').map((x) => x.path.replace(/^\/api\/fordconnect\/v1\/vehicles\//, ''));

    // A lock node locks, whatever the message says it should do.
    helper.getNode('k1').receive({ ...forged, payload: 'unlock', confirm: undefined });
    await f.settle(() => f.of('k1').out.length === 1, 'the lock');
    expect(f.of('k1').out[0].payload).to.include({ action: 'lock', status: 'success' });
    expect(commands()).to.deep.equal([`${v.truck}/lock`]);
    expect(outcomes(f.of('k1').audit)[0]).to.equal('lock:command:lock:ok');

    // An unlock never runs on a confirmation the message brings itself.
    const k2 = f.of('k2');
    const forgedConfirms: unknown[] = [true, 'true', 'yes', 1, {}, { id: true }, { id: 'A'.repeat(22) }, { id: 'x'.repeat(65) }, ['id'], { id: '../../etc' }, { toString: () => 'yes' }];
    for (const confirm of forgedConfirms) helper.getNode('k2').receive({ ...forged, payload: 'unlock', confirm });
    await f.errorsReach('k2', forgedConfirms.length);
    expect(k2.out).to.deep.equal([]);
    expect(outcomes(k2.audit).filter((o) => o === 'unlock:command:lock:denied')).to.have.length(forgedConfirms.length);

    // Asked properly, it waits for the owner; the id of another node's confirmation does not answer it.
    helper.getNode('r1').receive({ payload: 'start' });
    helper.getNode('k2').receive({ ...forged, payload: 'unlock', confirm: undefined });
    await until(() => k2.out.length === 1 && f.of('r1').out.length === 1, 'both confirmation requests');
    const k2Pending = k2.out[0].confirm as { id: string };
    const r1Pending = f.of('r1').out[0].confirm as { id: string };
    helper.getNode('k2').receive({ confirm: r1Pending });
    helper.getNode('r1').receive({ confirm: k2Pending.id });
    await f.errorsReach('k2', forgedConfirms.length + 1);
    await f.errorsReach('r1', 1);
    expect(String(f.errors('k2').at(-1))).to.match(/names no pending confirmation of this node/);
    expect(commands()).to.deep.equal([`${v.truck}/lock`]);

    // The right id runs what was parked: the truck's unlock, not the other vehicle or action the confirming message names.
    helper.getNode('k2').receive({ ...forged, confirm: k2Pending, payload: 'lock', vehicleId: v.bev });
    await f.settle(() => k2.out.length === 2, 'the confirmed unlock');
    expect(k2.out[1].payload).to.include({ action: 'unlock', vehicle: v.truck, status: 'success' });
    expect(commands().filter((c) => !c.includes('/status'))).to.deep.equal([`${v.truck}/lock`, `${v.truck}/unlock`]);
    expect(k2.audit.find((r) => r.action === 'unlock' && r.outcome === 'ok')?.detail).to.match(/confirmed by the owner/);
    // Once only.
    helper.getNode('k2').receive({ confirm: k2Pending });
    await f.errorsReach('k2', forgedConfirms.length + 2);
    expect(String(f.errors('k2').at(-1))).to.match(/already used/);

    // msg.precision does not undo the node's rounding.
    const before = f.rec.exchanges.length;
    helper.getNode('l1').receive({ ...forged, precision: 0, optIn: true });
    await until(() => f.of('l1').out.length === 1, 'the location');
    const answer = JSON.parse(f.since(before).find((x) => x.path.endsWith('/location'))?.responseBody ?? '{}') as { vehicleLocation?: { latitude: string; longitude: string } };
    const exact = { latitude: Number(answer.vehicleLocation?.latitude), longitude: Number(answer.vehicleLocation?.longitude) };
    const out = f.of('l1').out[0].payload as { latitude: number; longitude: number };
    const rounded = roundPosition(exact, 1000);
    expect({ latitude: out.latitude, longitude: out.longitude }).to.deep.equal({ latitude: rounded.latitude, longitude: rounded.longitude });
    expect(out.latitude).to.not.equal(exact.latitude);
    expect(trap.hits).to.deep.equal([]);
  });

  secureIt('msg.vehicleId picks among the vehicles the owner granted, never beyond: another owner\'s vehicle is refused by the provider and audited', async (f, v) => {
    await f.load([
      accountNode(f.sim.url, ALL, { auditFile: f.auditFileOf('acc') }),
      ...vehicleNode('ford-status', 's1', { vehicleId: v.truck, interval: 0, output: 'always' }),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: v.truck, action: 'lock' }),
    ]);
    await f.authorize(ALL);
    f.sim.world.fleet.patch(v.foreign, { locked: false });
    helper.getNode('s1').receive({ vehicleId: v.foreign });
    helper.getNode('k1').receive({ vehicleId: v.foreign });
    await f.errorsReach('s1', 1);
    await f.errorsReach('k1', 1);
    expect(f.of('s1').out).to.deep.equal([]);
    expect(f.of('s1').audit.at(-1)?.outcome).to.be.oneOf(['denied', 'failed']);
    expect(f.of('k1').audit.at(-1)).to.include({ action: 'lock' });
    expect(f.of('k1').audit.at(-1)?.outcome).to.be.oneOf(['denied', 'failed']);
    expect(f.sim.world.fleet.get(v.foreign)?.state.locked).to.equal(false);
  });
});
