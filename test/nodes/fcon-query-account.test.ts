import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import { vehicleIdFromVin } from '../../src/lib/api/fcon-query';
import type { VehicleLocation, VehicleStatus } from '../../src/lib/api/status';
import { commandRunner } from '../../src/lib/commands';
import { TokenStore } from '../../src/lib/oauth/token-store';
import { consentAt } from '../helpers/consent';
import { FaultFlow } from '../helpers/fault-flow';
import { accountNode, CREDENTIALS, realPause, until, vehicleNode, type FlowNode } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const SEC = 1000;

/**
 * The kit on FordConnect Query (Ford's read-only API), served by the
 * simulator: the account's `apiFlavour` picks it, exactly as the `ford`
 * preset speaks it to Ford (same dialect: B2C token path, short hex state,
 * `<client id> offline_access openid`, one vehicle per authorization).
 */
describe('ford-account and the vehicle nodes on FordConnect Query (against the simulator, fake timers)', function () {
  // FaultFlow for advanceUntil(): time moves from timer to timer, letting each poll's answer in before the
  // next step; a single 30 s tick could pass axios's 15 s timeout (a setTimeout) of a poll started inside it.
  const f = new FaultFlow();
  let sky: { id: string; nickName: string };
  let queryId: string;

  const queryAccount = (scopes: string[]): FlowNode => accountNode(f.sim.url, scopes, { apiFlavour: 'fcon-query' });
  const fconCalls = (): number => f.sim.world.counts.get('fcon.total');

  beforeEach(async () => {
    commandRunner.reset();
    await f.start();
    sky = f.ownedVehicles().find((v) => v.engineType === 'BEV') as { id: string; nickName: string };
    queryId = vehicleIdFromVin(f.sim.world.fleet.get(sky.id)?.spec.vin as string);
  });
  afterEach(async () => {
    await f.stop();
  });

  /** Editor: Authorize; the owner picks one vehicle and the data categories on Ford's consent page. */
  async function authorizeQuery(categories: string[], vehicle = sky.id): Promise<URL> {
    const start = await helper.request().post('/ford-connect/accounts/acc/authorize').send({}).expect(200);
    const url = new URL(start.body.url as string);
    const redirect = new URL(await consentAt(url.href, { vehicles: [vehicle], categories }));
    await helper.request().get(`/ford-connect/auth/callback${redirect.search}`).expect(200).expect(/Connected/);
    return url;
  }

  it('authorizes in Ford\'s dialect, for the one vehicle the owner picked, and the status and location nodes read it', async () => {
    await f.load([
      queryAccount(['read:status', 'read:location']),
      ...vehicleNode('ford-status', 's1', { vehicleId: '', interval: 0, output: 'always' }),
      ...vehicleNode('ford-location', 'l1', { vehicleId: '', optIn: true, interval: 0, precision: 0, output: 'always' }),
    ]);
    const url = await authorizeQuery(['status', 'location', 'evData']);
    expect(url.pathname).to.equal('/fcon-public/v1/auth/init');
    expect(url.searchParams.get('state')).to.match(/^[0-9a-f]{1,16}$/);
    expect(url.searchParams.get('scope')).to.equal('demo-client offline_access openid');
    expect(url.searchParams.get('code_challenge_method')).to.equal('S256');
    expect(f.sim.world.counts.get('fcon.token.authorization_code')).to.equal(1);

    // One authorization is one car: the account's vehicle list is that car.
    const vehicles = await helper.request().get('/ford-connect/accounts/acc/vehicles').expect(200);
    expect((vehicles.body.vehicles as { vehicleId: string }[]).map((v) => v.vehicleId)).to.deep.equal([queryId]);

    helper.getNode('s1').receive({ vehicleId: queryId });
    helper.getNode('l1').receive({ vehicleId: queryId });
    await until(() => f.of('s1').out.length === 1 && f.of('l1').out.length === 1, 'status and location');
    const status = f.of('s1').out[0].payload as VehicleStatus;
    expect(status.vehicleId).to.equal(queryId);
    expect(status.lock).to.be.oneOf(['locked', 'unlocked']);
    expect(status.battery?.level).to.be.a('number');
    expect(status).to.not.have.property('latitude');
    const location = f.of('l1').out[0].payload as VehicleLocation;
    expect(location.latitude).to.be.a('number');
    expect(location.longitude).to.be.a('number');
    expect(f.of('s1').audit.at(-1)).to.include({ action: 'status.read', outcome: 'ok' });
    // The simulator saw Query calls only.
    expect(f.sim.world.counts.get('api.total')).to.equal(0);
    expect(fconCalls()).to.be.greaterThan(0);
  });

  it('keeps a rotated refresh token across a Node-RED restart', async () => {
    const flow = [queryAccount(['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: queryId, interval: 0, output: 'always' })];
    await f.load(flow);
    await authorizeQuery(['status']);
    const before = new TokenStore(`${f.userDir}/ford-connect`, 'acc').load();
    f.sim.world.store.expireAllAccessTokens();
    helper.getNode('s1').receive({});
    await until(() => f.of('s1').out.length === 1, 'a status after the refresh');
    expect(f.sim.world.counts.get('fcon.token.refresh_token')).to.equal(1);
    const after = new TokenStore(`${f.userDir}/ford-connect`, 'acc').load();
    expect(after?.refreshToken).to.be.a('string').and.not.equal(before?.refreshToken);

    // Restart: a new runtime reads the rotated token from the file; the old one would be a replay.
    await helper.unload();
    f.clock.restore();
    await f.load(flow, CREDENTIALS);
    f.sim.world.store.expireAllAccessTokens();
    helper.getNode('s1').receive({});
    await until(() => f.of('s1').out.length === 1, 'a status after the restart');
    expect(f.sim.world.counts.get('fcon.token.refresh_token')).to.equal(2);
    expect(f.account.state).to.equal('authorized');
  });

  it('refuses every command and msg.refresh plainly, with zero requests', async () => {
    const scopes = ['read:status', 'command:lock', 'command:remote-start', 'command:horn-lights', 'command:charge'];
    await f.load([
      queryAccount(scopes),
      ...vehicleNode('ford-status', 's1', { vehicleId: queryId, interval: 0, output: 'always' }),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: queryId, action: 'lock' }),
      ...vehicleNode('ford-remote-start', 'r1', { vehicleId: queryId, action: 'start', confirm: true }),
      ...vehicleNode('ford-horn-lights', 'h1', { vehicleId: queryId }),
      ...vehicleNode('ford-charge', 'c1', { vehicleId: queryId, action: 'start', interval: 0 }),
    ]);
    await authorizeQuery(['status', 'evData']);
    f.sim.world.counts.reset();
    for (const id of ['k1', 'r1', 'h1', 'c1']) {
      expect(f.lastStatus(id)?.text, id).to.equal('no remote commands on this API');
      helper.getNode(id).receive({});
    }
    helper.getNode('s1').receive({ refresh: true });
    await until(() => ['k1', 'r1', 'h1', 'c1', 's1'].every((id) => f.errors(id).length === 1), 'every refusal');
    await realPause(30);
    for (const id of ['k1', 'r1', 'h1', 'c1']) {
      expect(String(f.errors(id)[0]), id).to.match(/offers no remote commands/);
      expect(f.of(id).audit.at(-1), id).to.include({ outcome: 'denied' });
      expect(f.of(id).audit.at(-1)?.detail, id).to.match(/offers no remote commands/);
    }
    expect(String(f.errors('s1')[0])).to.match(/no status refresh/);
    expect(fconCalls()).to.equal(0);
  });

  it('reads the charge schedules, and says so plainly when the owner did not share EV data (403 evData)', async () => {
    await f.load([queryAccount(['read:status', 'command:charge']), ...vehicleNode('ford-charge', 'c1', { vehicleId: queryId, action: 'start', interval: 0 })]);
    await authorizeQuery(['status']);
    helper.getNode('c1').receive({ topic: 'schedules' });
    await until(() => f.errors('c1').length === 1, 'the refusal');
    await realPause(20);
    expect(String(f.errors('c1')[0])).to.match(/evData/);
    expect(f.of('c1').audit.at(-1)).to.include({ action: 'status.read', outcome: 'denied', httpStatus: 403 });

    await authorizeQuery(['status', 'evData']);
    helper.getNode('c1').receive({ topic: 'schedules' });
    await until(() => f.of('c1').out.length === 1, 'the schedules');
    const payload = f.of('c1').out[0].payload as { vehicleId: string; schedules: unknown[] };
    expect(payload.vehicleId).to.equal(queryId);
    expect(payload.schedules.length).to.be.greaterThan(0);
  });

  it('turns an HTML 401 into one refresh and a clear error, and a 429 without Retry-After into a 60 s pause', async () => {
    await f.load([queryAccount(['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: queryId, interval: 60, output: 'always' })]);
    await authorizeQuery(['status']);
    await f.clock.tickAsync(0);
    await until(() => f.of('s1').out.length === 1, 'the first poll');

    f.sim.world.faults.html401Rate = 1;
    await f.clock.tickAsync(60 * SEC);
    await until(() => f.errors('s1').length === 1, 'the HTML 401');
    await realPause(20);
    expect(f.sim.world.counts.get('fcon.token.refresh_token')).to.equal(1);
    expect(f.of('s1').audit.at(-1)).to.include({ action: 'status.read', outcome: 'failed', httpStatus: 401 });
    f.sim.world.faults.html401Rate = 0;

    f.sim.world.faults.rateLimitNoRetryAfterRate = 1;
    f.sim.world.counts.reset();
    // The failed poll backed off: the next one comes within a few minutes.
    await f.advanceUntil(() => /^rate limited/.test(f.lastStatus('s1')?.text ?? ''), SEC, 20 * 60 * SEC);
    await until(() => /^rate limited/.test(f.lastStatus('s1')?.text ?? ''), 'the rate-limited status');
    await realPause(20);
    expect(f.of('s1').audit.at(-1)).to.include({ outcome: 'rate-limited', httpStatus: 429 });
    f.sim.world.faults.rateLimitNoRetryAfterRate = 0;
    const calls = fconCalls();
    const outs = f.of('s1').out.length;
    await f.clock.tickAsync(55 * SEC);
    await realPause();
    expect(fconCalls(), 'no call before about 60 s').to.equal(calls);
    await f.clock.tickAsync(10 * SEC);
    await until(() => f.of('s1').out.length === outs + 1, 'polling resumed');
    expect(f.lastStatus('s1')?.fill).to.equal('green');
  });
});
