import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import type { ChargeSchedules } from '../../src/lib/api/schedules';
import { commandRunner } from '../../src/lib/commands';
import { accountNode, until, vehicleNode, VehicleFlow } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const SEC = 1000;
const MIN = 60 * SEC;

interface Result {
  action: string;
  status: string;
  reason?: string;
  charging?: { status: string; plugged?: boolean };
  battery?: { level: number };
}

describe('ford-charge node (against the simulator, fake timers)', function () {
  const f = new VehicleFlow();
  const byType = (type: string, owner?: string): { id: string; nickName: string } => {
    const v = f.ownedVehicles(owner).find((x) => x.engineType === type);
    if (!v) throw new Error(`no ${type} in the fleet`);
    return v;
  };

  beforeEach(async () => {
    commandRunner.reset();
    await f.start();
  });
  afterEach(async () => {
    await f.stop();
  });



  it('starts charging a plugged-in BEV, shows the level and time to the target while it charges, and stops', async () => {
    const sky = byType('BEV');
    const scopes = ['read:status', 'command:charge'];
    await f.load([accountNode(f.sim.url, scopes), ...vehicleNode('ford-charge', 'c1', { vehicleId: sky.id, action: 'msg', interval: 300 })]);
    await f.authorize(scopes);
    const o = f.of('c1');
    await f.clock.tickAsync(0);
    await until(() => /plugged/.test(f.lastStatus('c1')?.text ?? ''), 'the charging state from the shared poll');
    f.sim.world.counts.reset();

    helper.getNode('c1').receive({ payload: 'start' });
    await until(() => f.sim.world.counts.get('api.command.startCharge') === 1, 'the start command');
    await f.vehicleAnswers(() => o.out.length === 1, 'the start result');
    const started = o.out[0].payload as Result;
    expect(started).to.include({ action: 'charge.start', status: 'success' });
    expect(started.charging?.status).to.equal('charging');
    expect(o.audit.find((r) => r.action === 'charge.start')).to.include({ scope: 'command:charge', outcome: 'ok' });
    expect(f.lastStatus('c1')?.text).to.match(/^charging started · 54%$/);

    // Half an hour of simulated charging at 10.5 kW, then the next shared poll.
    f.sim.world.clock.advance(30 * MIN);
    await f.clock.tickAsync(300 * SEC);
    await until(() => /^charging · \d+% · target in \d+ min$/.test(f.lastStatus('c1')?.text ?? ''), 'the charging status');
    const level = Number(/(\d+)%/.exec(f.lastStatus('c1')?.text ?? '')?.[1]);
    expect(level).to.be.greaterThan(54);
    expect(f.lastStatus('c1')?.fill).to.equal('green');

    helper.getNode('c1').receive({ payload: 'stop' });
    await until(() => f.sim.world.counts.get('api.command.stopCharge') === 1, 'the stop command');
    await f.vehicleAnswers(() => o.out.length === 2, 'the stop result');
    expect(o.out[1].payload).to.include({ action: 'charge.stop', status: 'success' });
    expect((o.out[1].payload as Result).charging?.status).to.equal('paused');
    expect(f.sim.world.fleet.get(sky.id)?.state.chargeEnabled).to.equal(false);
  });

  it('refuses an ICE vehicle before sending anything, with a clear message', async () => {
    const truck = byType('ICE');
    const scopes = ['read:status', 'command:charge'];
    await f.load([accountNode(f.sim.url, scopes), ...vehicleNode('ford-charge', 'c1', { vehicleId: truck.id, action: 'start', interval: 0 })]);
    await f.authorize(scopes);
    f.sim.world.counts.reset();
    helper.getNode('c1').receive({});
    await f.errorsReach('c1', 1);
    expect(String(f.errors('c1')[0])).to.match(/this vehicle cannot charge: its engine type is ICE/);
    expect(f.of('c1').audit.at(-1)).to.include({ action: 'charge.start', outcome: 'failed' });
    expect(f.sim.world.counts.get('api.command.startCharge')).to.equal(0);
  });

  it('reports the API\'s 406 for a vehicle that cannot charge when the node cannot read the status', async () => {
    const truck = byType('ICE');
    await f.load([accountNode(f.sim.url, ['command:charge']), ...vehicleNode('ford-charge', 'c1', { vehicleId: truck.id, action: 'start' })]);
    await f.authorize(['command:charge']);
    helper.getNode('c1').receive({});
    await f.errorsReach('c1', 1);
    expect(String(f.errors('c1')[0])).to.match(/does not support charge\.start/);
    expect(f.of('c1').audit.at(-1)).to.include({ action: 'charge.start', outcome: 'failed', httpStatus: 406 });
    expect(f.sim.world.counts.get('api.command.startCharge')).to.equal(1);
    // The API refused: no cooldown holds the next attempt back.
    helper.getNode('c1').receive({});
    await f.errorsReach('c1', 2);
    expect(String(f.errors('c1')[1])).to.match(/406|does not support/);
  });

  it('accepts the E-Transit, whose API says "EV"', async () => {
    const van = byType('EV', 'owner-fleet');
    const scopes = ['read:status', 'command:charge'];
    await f.load([accountNode(f.sim.url, scopes), ...vehicleNode('ford-charge', 'c1', { vehicleId: van.id, action: 'start', interval: 0 })]);
    await f.authorize(scopes, { email: 'fleet@example.com' });
    helper.getNode('c1').receive({});
    await until(() => f.sim.world.counts.get('api.command.startCharge') === 1, 'the start command');
    await f.vehicleAnswers(() => f.of('c1').out.length === 1, 'the result');
    expect(f.of('c1').out[0].payload).to.include({ status: 'success' });
  });

  it('accepts a PHEV, and reports the vehicle\'s own refusal when it is not plugged in', async () => {
    const escape = byType('PHEV');
    const scopes = ['read:status', 'command:charge'];
    await f.load([accountNode(f.sim.url, scopes), ...vehicleNode('ford-charge', 'c1', { vehicleId: escape.id, action: 'start', interval: 0, cooldown: 0 })]);
    await f.authorize(scopes);
    helper.getNode('c1').receive({});
    await until(() => f.sim.world.counts.get('api.command.startCharge') === 1, 'the start command');
    await f.vehicleAnswers(() => f.of('c1').out.length === 1, 'the result');
    expect(f.of('c1').out[0].payload).to.include({ status: 'failed', reason: 'not plugged in' });
    f.sim.world.fleet.patch(escape.id, { plugged: true, charging: false });
    helper.getNode('c1').receive({});
    await until(() => f.sim.world.counts.get('api.command.startCharge') === 2, 'the second start');
    await f.vehicleAnswers(() => f.of('c1').out.length === 2, 'the second result');
    expect(f.of('c1').out[1].payload).to.include({ status: 'success' });
  });

  it('refuses without command:charge with zero requests', async () => {
    const sky = byType('BEV');
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-charge', 'c1', { vehicleId: sky.id, action: 'start', interval: 0 })]);
    await f.authorize(['read:status']);
    f.sim.world.counts.reset();
    expect(f.lastStatus('c1')?.text).to.equal('command:charge not granted');
    helper.getNode('c1').receive({});
    await f.errorsReach('c1', 1);
    expect(f.of('c1').audit.at(-1)).to.include({ action: 'charge.start', scope: 'command:charge', outcome: 'denied' });
    expect(f.sim.world.counts.get('api.total')).to.equal(0);
  });

  it('outputs the charge schedules and the next departure in the documented shape on msg.topic "schedules"', async () => {
    const sky = byType('BEV');
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-charge', 'c1', { vehicleId: sky.id, action: 'start', interval: 0 })]);
    await f.authorize(['read:status']);
    helper.getNode('c1').receive({ topic: 'schedules' });
    await until(() => f.of('c1').out.length === 1, 'the schedules');
    const msg = f.of('c1').out[0];
    expect(msg.topic).to.match(/^ford\/.+\/schedules$/);
    const payload = msg.payload as ChargeSchedules;
    expect(payload.vehicleId).to.equal(sky.id);
    expect(payload.schedules.length).to.be.greaterThan(0);
    for (const s of payload.schedules) {
      expect(s.days.length).to.be.greaterThan(0);
      for (const d of s.days) expect(d).to.match(/^(mon|tues|wednes|thurs|fri|satur|sun)day$/);
      for (const w of s.windows) {
        expect(w.start).to.match(/^\d\d:\d\d$/);
        expect(w.end).to.match(/^\d\d:\d\d$/);
      }
      expect(s.targetLevel).to.equal(90);
    }
    expect(payload.nextDeparture?.time).to.match(/^\d\d:\d\d$/);
    expect(Date.parse(payload.nextDeparture?.at ?? '')).to.be.greaterThan(Date.now());
    expect(f.of('c1').audit.at(-1)).to.include({ action: 'status.read', scope: 'read:status', outcome: 'ok' });

    // An ICE has none: the API's 406 becomes a clear error.
    helper.getNode('c1').receive({ topic: 'schedules', vehicleId: byType('ICE').id });
    await f.errorsReach('c1', 1);
    expect(String(f.errors('c1')[0])).to.match(/no charge schedules/);
  });
});
