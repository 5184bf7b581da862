import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import type { VehicleStatus } from '../../src/lib/api/status';
import { vehicleHubs } from '../../src/lib/vehicle-hub';
import { accountNode, realPause, until, vehicleNode, VehicleFlow } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const SEC = 1000;
const BOTH = ['read:status', 'read:location'];

describe('ford-status node (against the simulator, fake timers)', function () {
  const f = new VehicleFlow();
  let truck: { id: string; nickName: string };

  beforeEach(async () => {
    await f.start();
    truck = f.ownedVehicles()[0];
  });
  afterEach(async () => {
    await f.stop();
  });

  it('asks the vehicle to report afresh on msg.refresh, and refuses another refresh within 5 minutes', async () => {
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 0, output: 'always' })]);
    await f.authorize(['read:status']);
    const o = f.of('s1');
    helper.getNode('s1').receive({ refresh: true });
    await realPause();
    // The vehicle answers a few simulated seconds later; the hub asks again every 3 s.
    f.sim.world.clock.advance(10 * SEC);
    for (let i = 0; i < 5 && o.out.length === 0; i++) {
      await f.clock.tickAsync(3 * SEC);
      await realPause(20);
    }
    await until(() => o.out.length === 1, 'the refreshed status');
    const refresh = o.audit.find((r) => r.action === 'status.refresh');
    expect(refresh).to.include({ outcome: 'ok', scope: 'read:status' });
    expect(refresh?.commandId).to.be.a('string');

    const audits = o.audit.length;
    helper.getNode('s1').receive({ refresh: true });
    await until(() => f.errors('s1').length === 1 && o.audit.length === audits + 1, 'the refusal');
    expect(f.errors('s1')[0]).to.match(/12 V battery/);
    expect(o.audit.at(-1)).to.include({ action: 'status.refresh', outcome: 'rate-limited' });
  });

  it('coalesces 3 status and 2 location nodes on one vehicle into one status call and one location call per interval', async () => {
    await f.load([
      accountNode(f.sim.url, BOTH),
      ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' }),
      ...vehicleNode('ford-status', 's2', { vehicleId: truck.id, interval: 60, output: 'always' }),
      ...vehicleNode('ford-status', 's3', { vehicleId: truck.id, interval: 90, output: 'always' }),
      ...vehicleNode('ford-location', 'l1', { vehicleId: truck.id, optIn: true, interval: 30, precision: 0, output: 'always' }),
      ...vehicleNode('ford-location', 'l2', { vehicleId: truck.id, optIn: true, interval: 300, precision: 0, output: 'always' }),
    ]);
    await f.authorize(BOTH);
    f.sim.world.counts.reset();
    const outs = (): number[] => ['s1', 's2', 's3', 'l1', 'l2'].map((id) => f.of(id).out.length);

    await f.clock.tickAsync(0);
    await until(() => outs().every((n) => n === 1), 'the first poll');
    expect([f.count('api.vehicle.info'), f.count('api.vehicle.location')]).to.deep.equal([1, 1]);
    expect(f.lastStatus('s1')).to.deep.equal({ fill: 'green', shape: 'dot', text: 'locked · 62% · just now' });

    for (let round = 2; round <= 3; round++) {
      await f.clock.tickAsync(29 * SEC);
      await realPause();
      expect(outs(), `nothing before interval ${round}`).to.deep.equal([round - 1, round - 1, round - 1, round - 1, round - 1]);
      await f.clock.tickAsync(1 * SEC);
      await until(() => outs().every((n) => n === round), `poll ${round}`);
      expect([f.count('api.vehicle.info'), f.count('api.vehicle.location')], `calls after ${round} intervals`).to.deep.equal([round, round]);
    }
    expect(f.count('api.total')).to.equal(6);

    // Every status node got the same clean status; the raw body never carries the location.
    for (const id of ['s1', 's2', 's3']) {
      const msg = f.of(id).out[2];
      expect(msg.topic).to.equal(`ford/${truck.nickName.replace(/ /g, '-')}/status`);
      expect((msg.payload as VehicleStatus).vehicleId).to.equal(truck.id);
      expect(msg.changed, 'no changed list in "every poll" mode').to.equal(undefined);
      const raw = msg.raw as { vehicle: Record<string, unknown> };
      expect(raw.vehicle).to.be.an('object');
      expect(raw.vehicle).to.not.have.property('vehicleLocation');
      expect(f.of(id).audit.map((a) => `${a.action}:${a.outcome}`)).to.deep.equal(['status.read:ok', 'status.read:ok', 'status.read:ok']);
    }
    for (const id of ['l1', 'l2']) {
      expect(f.of(id).audit.map((a) => `${a.action}:${a.outcome}`)).to.deep.equal(['location.read:ok', 'location.read:ok', 'location.read:ok']);
      expect(f.of(id).out[0].payload).to.have.keys('latitude', 'longitude', 'heading', 'speed', 'time');
    }
    // The age is the vehicle's own report time (the simulator's clock stood still while ours ran a minute).
    expect(f.lastStatus('s1')).to.deep.equal({ fill: 'green', shape: 'dot', text: 'locked · 62% · 1 min ago' });
  });

  it('outputs only what changed: every field at first, then nothing but an audit record, then the lock', async () => {
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'changes' })]);
    await f.authorize(['read:status']);
    const o = f.of('s1');

    await f.clock.tickAsync(0);
    await until(() => o.out.length === 1, 'the first reading');
    const first = o.out[0];
    expect(first.topic).to.equal('ford/Work-Truck/status');
    expect((first.payload as VehicleStatus).lock).to.equal('locked');
    expect(first.changed).to.include.members(['lock', 'alarm', 'fuel.level', 'fuel.rangeKm', 'odometerKm', 'ignition', 'doors.driver', 'engine.running']);
    expect(first.changed, 'timestamps are not changes').to.not.include.members(['lastUpdated', 'fuel.updated']);
    expect(first.raw).to.have.nested.property('vehicle.vehicleId', truck.id);
    expect(o.auditMsgs[0].topic).to.equal('ford/audit');
    expect(o.audit[0]).to.include({ nodeId: 's1', nodeType: 'ford-status', nodeName: 'my s1', vehicle: `…${truck.id.slice(-4)}`, action: 'status.read', scope: 'read:status', outcome: 'ok' });
    expect(o.audit[0].detail).to.equal(`${(first.changed as string[]).length} field(s) changed`);
    expect(Date.parse(o.audit[0].time)).to.equal(Date.now());

    // Same state at the next poll: an audit record, no status message.
    await f.clock.tickAsync(30 * SEC);
    await until(() => o.audit.length === 2, 'the second poll');
    await realPause(20);
    expect(o.out).to.have.length(1);
    expect(o.audit[1]).to.include({ action: 'status.read', outcome: 'ok', detail: '0 field(s) changed' });

    // The doors are unlocked (the simulator disarms the alarm with them).
    expect(f.sim.world.fleet.patch(truck.id, { locked: false })).to.equal(undefined);
    await f.clock.tickAsync(30 * SEC);
    await until(() => o.out.length === 2, 'the reading after the unlock');
    expect(o.out[1].changed).to.deep.equal(['alarm', 'lock']);
    expect((o.out[1].payload as VehicleStatus).lock).to.equal('unlocked');
    expect(o.audit[2]).to.include({ outcome: 'ok', detail: '2 field(s) changed' });
    expect(f.lastStatus('s1')).to.include({ fill: 'green', shape: 'dot' });
    expect(f.lastStatus('s1')?.text).to.match(/^unlocked · 62% · /);
    expect(f.count('api.vehicle.info')).to.equal(3);
  });

  it('reads on input from the polled cache, and another vehicle when msg.vehicleId names it', async () => {
    const sky = f.ownedVehicles()[1];
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' })]);
    await f.authorize(['read:status']);
    const o = f.of('s1');
    await f.clock.tickAsync(0);
    await until(() => o.out.length === 1, 'the first poll');

    // The poll's reading is fresh: an input read costs no call, and the message keeps its own properties.
    helper.getNode('s1').receive({ topic: 'please', note: 'kept' });
    await until(() => o.out.length === 2, 'the input read');
    expect(f.count('api.vehicle.info')).to.equal(1);
    expect(o.out[1]).to.include({ topic: 'ford/Work-Truck/status', note: 'kept' });
    expect((o.out[1].payload as VehicleStatus).vehicleId).to.equal(truck.id);

    // msg.vehicleId overrides the configured vehicle.
    helper.getNode('s1').receive({ vehicleId: sky.id });
    await until(() => o.out.length === 3, 'the read of the other vehicle');
    expect(f.count('api.vehicle.info')).to.equal(2);
    const other = o.out[2];
    expect(other.topic).to.equal('ford/Sky/status');
    expect((other.payload as VehicleStatus).vehicleId).to.equal(sky.id);
    expect((other.payload as VehicleStatus).battery?.level).to.be.a('number');
    expect(o.audit.at(-1)).to.include({ action: 'status.read', outcome: 'ok', vehicle: `…${sky.id.slice(-4)}` });
    expect(f.errors('s1')).to.deep.equal([]);
  });

  it('answers an input-only node from a fresh enough reading instead of calling again', async () => {
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 0, output: 'always' })]);
    await f.authorize(['read:status']);
    expect(f.lastStatus('s1')).to.deep.equal({ fill: 'grey', shape: 'ring', text: 'reads on input' });
    const o = f.of('s1');
    await f.clock.tickAsync(60 * SEC);
    await realPause(20);
    expect(f.count('api.vehicle.info'), 'no polling with interval 0').to.equal(0);

    helper.getNode('s1').receive({});
    await until(() => o.out.length === 1, 'the first input read');
    expect(f.count('api.vehicle.info')).to.equal(1);
    helper.getNode('s1').receive({});
    await until(() => o.out.length === 2, 'the second input read');
    expect(f.count('api.vehicle.info'), 'a second read within 30 s comes from the cache').to.equal(1);
  });

  it('honours Retry-After for an input-only node too: an input read within it makes no call', async () => {
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 0, output: 'always' })]);
    await f.authorize(['read:status']);
    Object.assign(f.sim.world.faults, { rateLimitRate: 1, retryAfterSeconds: 120 });
    const o = f.of('s1');
    helper.getNode('s1').receive({});
    await until(() => f.errors('s1').length === 1 && o.audit.length === 1, 'the 429');
    expect(o.audit[0]).to.include({ outcome: 'rate-limited', httpStatus: 429 });
    f.sim.world.faults.rateLimitRate = 0;
    await f.clock.tickAsync(60 * SEC);
    helper.getNode('s1').receive({});
    await until(() => f.errors('s1').length + o.out.length === 2 && o.audit.length === 2, 'the second input read');
    expect(f.count('api.vehicle.info'), 'no call while Retry-After lasts').to.equal(1);
    expect(o.audit[1]).to.include({ outcome: 'rate-limited' });
  });

  it('keeps change detection per vehicle when msg.vehicleId reads another one', async () => {
    const sky = f.ownedVehicles()[1];
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'changes' })]);
    await f.authorize(['read:status']);
    const o = f.of('s1');
    await f.clock.tickAsync(0);
    await until(() => o.out.length === 1, 'the first poll');
    helper.getNode('s1').receive({ vehicleId: sky.id });
    await until(() => o.out.length === 2, 'the read of the other vehicle');
    await f.clock.tickAsync(30 * SEC);
    await until(() => o.audit.length === 3, 'the next poll of the configured vehicle');
    await realPause(20);
    expect(o.out, 'nothing changed on the configured vehicle').to.have.length(2);
  });

  it('never puts the full vehicle id into node status, audit records or the log', async () => {
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' })]);
    await f.authorize(['read:status']);
    f.sim.world.faults.errorRate = 1;
    await f.clock.tickAsync(0);
    await until(() => f.of('s1').audit.length === 1 && f.errors('s1').length === 1, 'the failed poll');
    await realPause(20);
    const text = JSON.stringify([f.statuses('s1'), f.of('s1').audit, f.account.auditRing.list(), helper.log().args, f.errors('s1').map(String)]);
    expect(text).to.include(truck.id.slice(-4));
    expect(text).to.not.include(truck.id);
  });

  it('refuses a hostile msg.vehicleId with a node error and an audit record, and makes no call', async () => {
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' })]);
    await f.authorize(['read:status']);
    const o = f.of('s1');
    await f.clock.tickAsync(0);
    await until(() => o.out.length === 1, 'the first poll');
    f.sim.world.counts.reset();

    const long = '0123456789abcdef'.repeat(625);
    expect(long).to.have.length(10_000);
    const hostile: unknown[] = ['../x', { id: truck.id }, long, `${truck.id}/location`, truck.id.slice(0, 31), 42, null];
    for (const vehicleId of hostile) helper.getNode('s1').receive({ vehicleId });
    await until(() => f.errors('s1').length === hostile.length && o.audit.length === 1 + hostile.length, 'the refusals');
    await realPause(20);

    expect(f.count('api.total')).to.equal(0);
    expect(o.out).to.have.length(1);
    for (const err of f.errors('s1')) expect((err as Error).message).to.equal('msg.vehicleId is not a vehicle id (32 hexadecimal characters)');
    for (const record of o.audit.slice(1)) {
      expect(record).to.include({ nodeId: 's1', action: 'status.read', scope: 'read:status', outcome: 'failed', vehicle: '', detail: 'msg.vehicleId is not a vehicle id (32 hexadecimal characters)' });
    }
    expect(f.lastStatus('s1')).to.include({ fill: 'red', shape: 'ring' });
    const logged = JSON.stringify([helper.log().args, o.audit, f.statuses('s1')]);
    expect(logged).to.not.include(long.slice(0, 64));
    expect(logged).to.not.include('../x');
  });

  it('reports an unknown vehicle and a vehicle the owner did not grant as node errors with audit records', async () => {
    const van = f.sim.world.fleet.ownedBy('owner-fleet')[0].id;
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 0, output: 'always' })]);
    await f.authorize(['read:status']);
    const o = f.of('s1');

    helper.getNode('s1').receive({ vehicleId: 'ffffffffffffffffffffffffffffffff' });
    await until(() => f.errors('s1').length === 1 && o.audit.length === 1, 'the unknown vehicle');
    helper.getNode('s1').receive({ vehicleId: van });
    await until(() => f.errors('s1').length === 2 && o.audit.length === 2, 'the vehicle of another owner');

    expect(o.out).to.deep.equal([]);
    expect(o.audit.map((a) => [a.vehicle, a.outcome, a.httpStatus])).to.deep.equal([
      ['…ffff', 'failed', 404],
      [`…${van.slice(-4)}`, 'denied', 401],
    ]);
    expect(f.count('api.vehicle.info')).to.equal(2);
  });

  it('refuses reads while the account is not authorized: node error, audit denied, no call', async () => {
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' })]);
    expect(f.lastStatus('s1')).to.deep.equal({ fill: 'red', shape: 'ring', text: 'not authorized' });
    helper.getNode('s1').receive({});
    await until(() => f.errors('s1').length === 1 && f.of('s1').audit.length === 1, 'the refusal');
    expect((f.errors('s1')[0] as Error).message).to.equal('ford-status: the account is not authorized');
    expect(f.of('s1').audit).to.have.length(1);
    expect(f.of('s1').audit[0]).to.include({ action: 'status.read', outcome: 'denied', vehicle: `…${truck.id.slice(-4)}` });
    await f.clock.tickAsync(120 * SEC);
    await realPause(20);
    expect(f.count('api.total')).to.equal(0);
  });

  it('honours Retry-After: no call until 120 s have passed, yellow status meanwhile', async () => {
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' })]);
    await f.authorize(['read:status']);
    Object.assign(f.sim.world.faults, { rateLimitRate: 1, retryAfterSeconds: 120 });
    const o = f.of('s1');
    const t0 = Date.now();

    await f.clock.tickAsync(0);
    await until(() => f.lastStatus('s1')?.fill === 'yellow', 'the rate-limited status');
    f.sim.world.faults.rateLimitRate = 0;
    expect(f.count('api.vehicle.info')).to.equal(1);
    const resume = new Date(t0 + 120 * SEC).toISOString().slice(11, 16);
    expect(f.lastStatus('s1')).to.deep.equal({ fill: 'yellow', shape: 'ring', text: `rate limited until ${resume} UTC` });
    expect(f.errors('s1'), 'a 429 is a wait, not a node error').to.deep.equal([]);

    // An input read meanwhile is refused without a call.
    helper.getNode('s1').receive({});
    await until(() => f.errors('s1').length === 1 && o.audit.length === 1, 'the refused input read');
    expect((f.errors('s1')[0] as Error).message).to.match(/^rate limited by the API: calls resume at .* \(in 2 min\)$/);
    expect(o.audit.at(-1)).to.include({ action: 'status.read', outcome: 'rate-limited' });

    await f.clock.tickAsync(119 * SEC);
    await realPause();
    expect(f.count('api.vehicle.info'), 'nothing before Retry-After has passed').to.equal(1);
    expect(o.out).to.have.length(0);

    await f.clock.tickAsync(1 * SEC);
    await until(() => o.out.length === 1, 'the poll after Retry-After');
    expect(f.count('api.vehicle.info')).to.equal(2);
    expect(f.lastStatus('s1')).to.include({ fill: 'green', shape: 'dot' });
    expect(o.audit.at(-1)).to.include({ action: 'status.read', outcome: 'ok' });

    // And back to the normal interval.
    await f.clock.tickAsync(30 * SEC);
    await until(() => o.out.length === 2, 'the next regular poll');
    expect(f.count('api.vehicle.info')).to.equal(3);
  });

  it('leaves an audit record (outcome rate-limited) for a poll answered 429', async () => {
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' })]);
    await f.authorize(['read:status']);
    Object.assign(f.sim.world.faults, { rateLimitRate: 1, retryAfterSeconds: 120 });
    await f.clock.tickAsync(0);
    await until(() => f.lastStatus('s1')?.fill === 'yellow', 'the rate-limited status');
    await realPause(20);
    expect(f.of('s1').audit.map((a) => [a.action, a.outcome, a.httpStatus])).to.deep.equal([['status.read', 'rate-limited', 429]]);
  });

  it('backs off on 5xx: calls spaced further and further apart, then the normal interval after a success', async () => {
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' })]);
    await f.authorize(['read:status']);
    f.sim.world.faults.errorRate = 1;
    const o = f.of('s1');
    const info = (): number => f.count('api.vehicle.info');
    const t0 = Date.now();

    await f.clock.tickAsync(0);
    await until(() => o.audit.length === 1, 'the first failed poll');
    expect(o.audit[0]).to.include({ action: 'status.read', outcome: 'failed', httpStatus: 503 });
    const hub = vehicleHubs.get(f.account, truck.id);
    expect(hub).to.not.equal(undefined);

    // Backoff k: between half and all of 30 s × 2^k (equal jitter), never less than the interval.
    const bands: [number, number][] = [
      [30, 60],
      [60, 120],
      [120, 240],
    ];
    const delays: number[] = [];
    for (let k = 1; k <= bands.length; k++) {
      const waiting = hub!.waitingState('status');
      expect(waiting?.reason).to.equal('backoff');
      const delay = (waiting!.until as number) - Date.now();
      delays.push(delay);
      expect(delay / SEC, `backoff ${k}`).to.be.within(bands[k - 1][0], bands[k - 1][1]);
      expect(f.lastStatus('s1')).to.include({ fill: 'yellow', shape: 'ring' });
      expect(f.lastStatus('s1')?.text).to.match(/^retrying until \d\d:\d\d UTC$/);

      await f.clock.tickAsync(delay - SEC);
      await realPause();
      expect(info(), `no call during backoff ${k}`).to.equal(k);
      await f.clock.tickAsync(SEC);
      await until(() => o.audit.length === k + 1, `failed poll ${k + 1}`);
      expect(info()).to.equal(k + 1);
    }
    expect(delays[1]).to.be.at.least(delays[0]);
    expect(delays[2]).to.be.at.least(delays[1]);
    const elapsed = Date.now() - t0;
    expect(elapsed / SEC).to.be.at.least(210);
    // Without backoff the same time would have cost one call every 30 s.
    expect(info()).to.equal(4);
    expect(Math.floor(elapsed / (30 * SEC)) + 1).to.be.at.least(8);
    expect(o.audit.map((a) => a.outcome)).to.deep.equal(['failed', 'failed', 'failed', 'failed']);
    expect(o.audit.every((a) => a.httpStatus === 503)).to.equal(true);
    expect(f.errors('s1')).to.have.length(4);
    expect(o.out).to.have.length(0);

    // The API recovers: the next (backed-off) poll succeeds and the interval is 30 s again.
    f.sim.world.faults.errorRate = 0;
    const last = hub!.waitingState('status');
    expect((last!.until as number) - Date.now()).to.be.within(240 * SEC, 480 * SEC);
    await f.clock.tickAsync((last!.until as number) - Date.now());
    await until(() => o.out.length === 1, 'the successful poll');
    expect(info()).to.equal(5);
    expect(hub!.waitingState('status')).to.equal(undefined);
    expect(f.lastStatus('s1')).to.include({ fill: 'green', shape: 'dot' });
    await f.clock.tickAsync(29 * SEC);
    await realPause();
    expect(info()).to.equal(5);
    await f.clock.tickAsync(SEC);
    await until(() => o.out.length === 2, 'the next regular poll');
    expect(info()).to.equal(6);
  });

  it('pauses while re-authorization is needed (no calls) and resumes at once when the owner authorizes again', async () => {
    await f.load([
      accountNode(f.sim.url, BOTH),
      ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' }),
      ...vehicleNode('ford-location', 'l1', { vehicleId: truck.id, optIn: true, interval: 30, precision: 0, output: 'always' }),
    ]);
    await f.authorize(BOTH);
    const calls = (): number[] => [f.count('api.vehicle.info'), f.count('api.vehicle.location')];
    await f.clock.tickAsync(0);
    await until(() => f.of('s1').out.length === 1 && f.of('l1').out.length === 1, 'the first poll');
    expect(calls()).to.deep.equal([1, 1]);

    // The owner revokes the app on the Connected Apps page.
    expect(await f.revokeOnConnectedAppsPage()).to.equal(1);
    await f.clock.tickAsync(30 * SEC);
    await until(() => f.account.state === 'reauth-needed' && f.lastStatus('s1')?.text === 're-authorization needed' && f.lastStatus('l1')?.text === 're-authorization needed', 'the pause');
    await realPause(20);
    const paused = calls();
    expect(paused[0]).to.equal(2);
    expect(f.lastStatus('s1')).to.deep.equal({ fill: 'red', shape: 'ring', text: 're-authorization needed' });
    expect(f.lastStatus('l1')).to.deep.equal({ fill: 'red', shape: 'ring', text: 're-authorization needed' });
    expect(f.account.auditRing.list().map((r) => `${r.action}:${r.outcome}`)).to.include('auth.revoked:denied');

    // Ten minutes of nothing: no call, no output, no node error.
    await f.clock.tickAsync(600 * SEC);
    await realPause();
    expect(calls()).to.deep.equal(paused);
    expect(f.of('s1').out).to.have.length(1);
    expect(f.of('l1').out).to.have.length(1);
    expect(f.errors('s1')).to.deep.equal([]);

    // An input read is refused without a call.
    const audits = f.of('s1').audit.length;
    helper.getNode('s1').receive({});
    await until(() => f.errors('s1').length === 1 && f.of('s1').audit.length === audits + 1, 'the refused input read');
    expect((f.errors('s1')[0] as Error).message).to.equal('ford-status: the account is waiting for re-authorization');
    expect(f.of('s1').audit.at(-1)).to.include({ action: 'status.read', outcome: 'denied' });
    expect(calls()).to.deep.equal(paused);

    // Authorized again: both poll at once, then every interval.
    await f.authorize(BOTH);
    await f.clock.tickAsync(0);
    await until(() => f.of('s1').out.length === 2 && f.of('l1').out.length === 2, 'the poll after re-authorization');
    expect(calls()).to.deep.equal([paused[0] + 1, paused[1] + 1]);
    expect(f.lastStatus('s1')).to.include({ fill: 'green', shape: 'dot' });
    await f.clock.tickAsync(30 * SEC);
    await until(() => f.of('s1').out.length === 3 && f.of('l1').out.length === 3, 'the next poll');
    expect(calls()).to.deep.equal([paused[0] + 2, paused[1] + 2]);
  });
});
