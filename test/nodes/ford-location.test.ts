import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import { distanceMetres, type VehicleLocation } from '../../src/lib/api/status';
import { accountNode, realPause, until, vehicleNode, VehicleFlow } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const SEC = 1000;
const BOTH = ['read:status', 'read:location'];
/** Metres per degree of latitude (the mean Earth radius roundPosition uses). */
const M_PER_DEG = (Math.PI / 180) * 6_371_008.8;

/** `metres` north and east of a position. */
function offset(p: { latitude: number; longitude: number }, north: number, east: number): { lat: number; lon: number } {
  return { lat: p.latitude + north / M_PER_DEG, lon: p.longitude + east / (M_PER_DEG * Math.cos((p.latitude * Math.PI) / 180)) };
}

describe('ford-location node (against the simulator, fake timers)', function () {
  const f = new VehicleFlow();
  let truck: { id: string; nickName: string };

  beforeEach(async () => {
    await f.start();
    truck = f.ownedVehicles()[0];
  });
  afterEach(async () => {
    await f.stop();
  });

  it('refuses every read without its own opt-in: node error, audit denied, not one location call', async () => {
    await f.load([accountNode(f.sim.url, BOTH), ...vehicleNode('ford-location', 'l1', { vehicleId: truck.id, optIn: false, interval: 30, precision: 0, output: 'always' })]);
    const o = f.of('l1');
    expect(f.lastStatus('l1')).to.deep.equal({ fill: 'red', shape: 'ring', text: 'not authorized' });
    await f.authorize(BOTH);
    expect(f.account.can('read:location'), 'the scope itself is granted').to.equal(true);
    expect(f.lastStatus('l1')).to.deep.equal({ fill: 'red', shape: 'ring', text: 'not opted in' });
    await until(() => o.audit.length === 1, 'the refusal on authorization');
    expect(o.audit[0]).to.include({ nodeId: 'l1', nodeType: 'ford-location', action: 'location.read', scope: 'read:location', outcome: 'denied', detail: 'location sharing is not opted in on this node' });

    helper.getNode('l1').receive({});
    await until(() => f.errors('l1').length === 1 && o.audit.length === 2, 'the refused input read');
    expect((f.errors('l1')[0] as Error).message).to.equal('ford-location: location sharing is not opted in on this node');
    expect(o.audit[1]).to.include({ action: 'location.read', outcome: 'denied', vehicle: `…${truck.id.slice(-4)}` });

    await f.clock.tickAsync(120 * SEC);
    await realPause();
    expect(f.count('api.vehicle.location')).to.equal(0);
    expect(f.count('api.total')).to.equal(0);
    expect(o.out).to.deep.equal([]);
  });

  for (const c of [
    { what: 'the owner did not grant read:location', accountScopes: BOTH, ticked: ['read:status'] },
    { what: 'read:location is not ticked in the account', accountScopes: ['read:status'], ticked: ['read:status'] },
  ]) {
    it(`refuses every read when ${c.what}, while status polling goes on`, async () => {
      await f.load([
        accountNode(f.sim.url, c.accountScopes),
        ...vehicleNode('ford-location', 'l1', { vehicleId: truck.id, optIn: true, interval: 30, precision: 0, output: 'always' }),
        ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' }),
      ]);
      await f.authorize(c.ticked);
      const o = f.of('l1');
      expect(f.account.can('read:location')).to.equal(false);
      expect(f.lastStatus('l1')).to.deep.equal({ fill: 'red', shape: 'ring', text: 'read:location not granted' });
      await until(() => o.audit.length === 1, 'the refusal on authorization');
      expect(o.audit[0]).to.include({ action: 'location.read', outcome: 'denied', detail: 'read:location is not ticked in the account or not granted by the owner' });

      helper.getNode('l1').receive({});
      helper.getNode('l1').receive({ vehicleId: f.ownedVehicles()[1].id });
      await until(() => f.errors('l1').length === 2 && o.audit.length === 3, 'the refused input reads');
      for (const err of f.errors('l1')) expect((err as Error).message).to.equal('ford-location: read:location is not ticked in the account or not granted by the owner');
      expect(o.audit.map((a) => a.outcome)).to.deep.equal(['denied', 'denied', 'denied']);

      await f.clock.tickAsync(0);
      await until(() => f.of('s1').out.length === 1, 'the first status poll');
      await f.clock.tickAsync(30 * SEC);
      await until(() => f.of('s1').out.length === 2, 'the second status poll');
      await realPause();
      expect(f.count('api.vehicle.info')).to.equal(2);
      expect(f.count('api.vehicle.location')).to.equal(0);
      expect(o.out).to.deep.equal([]);
    });
  }

  it('stops calling the location API at once when a new authorization drops read:location', async () => {
    await f.load([accountNode(f.sim.url, BOTH), ...vehicleNode('ford-location', 'l1', { vehicleId: truck.id, optIn: true, interval: 30, precision: 0, output: 'always' })]);
    await f.authorize(BOTH);
    await f.clock.tickAsync(0);
    await until(() => f.of('l1').out.length === 1, 'the first poll');

    await f.authorize(['read:status']);
    expect(f.account.can('read:location')).to.equal(false);
    await until(() => f.lastStatus('l1')?.text === 'read:location not granted', 'the refusal');
    await f.clock.tickAsync(90 * SEC);
    await realPause();
    expect(f.count('api.vehicle.location')).to.equal(1);
    expect(f.of('l1').audit.at(-1)).to.include({ action: 'location.read', outcome: 'denied' });
  });

  it('rounds the position to the configured precision, so every position in one cell leaves as the same point', async () => {
    await f.load([
      accountNode(f.sim.url, BOTH),
      ...vehicleNode('ford-location', 'exact', { vehicleId: truck.id, optIn: true, interval: 0, precision: 0, output: 'always' }),
      ...vehicleNode('ford-location', 'km', { vehicleId: truck.id, optIn: true, interval: 0, precision: 1000, output: 'always' }),
    ]);
    await f.authorize(BOTH);
    expect(f.lastStatus('km')).to.deep.equal({ fill: 'grey', shape: 'ring', text: 'reads on input' });
    const read = async (id: string): Promise<VehicleLocation> => {
      const o = f.of(id);
      const n = o.out.length;
      helper.getNode(id).receive({});
      await until(() => o.out.length === n + 1, `a reading of ${id}`);
      return o.out[n].payload as VehicleLocation;
    };

    const exact = await read('exact');
    const rounded = await read('km');
    expect(rounded).to.have.keys('latitude', 'longitude', 'heading', 'speed', 'time');
    expect({ heading: rounded.heading, speed: rounded.speed, time: rounded.time }).to.deep.equal({ heading: exact.heading, speed: exact.speed, time: exact.time });
    expect(rounded.latitude).to.not.equal(exact.latitude);
    expect(rounded.longitude).to.not.equal(exact.longitude);
    expect(distanceMetres(exact, rounded)).to.be.below(Math.SQRT2 * 500 + 1);
    // On the grid: latitude a whole number of ~1000 m steps.
    const steps = rounded.latitude / (1000 / M_PER_DEG);
    expect(Math.abs(steps - Math.round(steps))).to.be.below(1e-4);
    expect(f.of('km').audit.at(-1)).to.include({ action: 'location.read', outcome: 'ok', detail: 'position delivered, rounded to 1000 m' });
    expect(f.of('exact').audit.at(-1)).to.include({ outcome: 'ok', detail: 'position delivered' });

    // The vehicle moves about inside the cell: the rounded position does not move.
    for (const [north, east] of [
      [150, -150],
      [-200, 120],
      [300, 300],
    ]) {
      expect(f.sim.world.fleet.patch(truck.id, { position: offset(rounded, north, east) })).to.equal(undefined);
      await f.clock.tickAsync(31 * SEC);
      const e = await read('exact');
      expect(distanceMetres(e, rounded)).to.be.above(100);
      const r = await read('km');
      expect([r.latitude, r.longitude]).to.deep.equal([rounded.latitude, rounded.longitude]);
    }
    // And out of it: the next cell.
    expect(f.sim.world.fleet.patch(truck.id, { position: offset(rounded, 1200, 0) })).to.equal(undefined);
    await f.clock.tickAsync(31 * SEC);
    const next = await read('km');
    expect(distanceMetres(next, rounded)).to.be.within(900, 1100);
  });

  it('outputs only when the vehicle moved at least the minimum distance, with an audit record of every poll', async () => {
    await f.load([accountNode(f.sim.url, BOTH), ...vehicleNode('ford-location', 'l1', { vehicleId: truck.id, optIn: true, interval: 30, precision: 0, output: 'changes', minDistance: 200 })]);
    await f.authorize(BOTH);
    const o = f.of('l1');
    await f.clock.tickAsync(0);
    await until(() => o.out.length === 1, 'the first position');
    const start = o.out[0].payload as VehicleLocation;
    expect(o.out[0].topic).to.equal(`ford/${truck.id.slice(-4)}/location`);
    expect(o.out[0].vehicleId, 'which car, for flows that serve several').to.equal(truck.id);

    const poll = async (n: number, north: number | undefined): Promise<void> => {
      if (north !== undefined) expect(f.sim.world.fleet.patch(truck.id, { position: offset(start, north, 0) })).to.equal(undefined);
      await f.clock.tickAsync(30 * SEC);
      await until(() => o.audit.length === n, `poll ${n}`);
      await realPause(20);
    };
    await poll(2, 50); // 50 m from what was sent
    expect(o.out).to.have.length(1);
    await poll(3, 150); // 150 m: still under 200
    expect(o.out).to.have.length(1);
    await poll(4, 250); // 250 m: out
    expect(o.out).to.have.length(2);
    const moved = o.out[1].payload as VehicleLocation;
    expect(distanceMetres(start, moved)).to.be.within(245, 255);
    await poll(5, undefined); // parked: nothing
    await poll(6, 400); // 150 m from the last one sent: nothing
    expect(o.out).to.have.length(2);

    expect(f.count('api.vehicle.location')).to.equal(6);
    expect(o.audit.map((a) => `${a.action}:${a.outcome}`)).to.deep.equal(Array(6).fill('location.read:ok'));
    expect(f.lastStatus('l1')).to.include({ fill: 'green', shape: 'dot' });
    // The age of the vehicle's own report (the simulator's clock stood still while ours ran).
    expect(f.lastStatus('l1')?.text).to.match(/^position (just now|\d min ago)$/);
  });

  it('refuses a hostile msg.vehicleId with a node error and an audit record, and makes no call', async () => {
    await f.load([accountNode(f.sim.url, BOTH), ...vehicleNode('ford-location', 'l1', { vehicleId: truck.id, optIn: true, interval: 0, precision: 0, output: 'always' })]);
    await f.authorize(BOTH);
    const o = f.of('l1');
    const hostile: unknown[] = ['../x', { vehicleId: truck.id }, 'a'.repeat(10_000), `${truck.id}?x=1`];
    for (const vehicleId of hostile) helper.getNode('l1').receive({ vehicleId });
    await until(() => f.errors('l1').length === hostile.length && o.audit.length === hostile.length, 'the refusals');
    await realPause(20);
    expect(f.count('api.total')).to.equal(0);
    expect(o.out).to.deep.equal([]);
    for (const record of o.audit) expect(record).to.include({ action: 'location.read', scope: 'read:location', outcome: 'failed', vehicle: '' });
  });

  it('never puts coordinates into node status, audit records or logs', async () => {
    const auditFile = path.join(f.userDir, 'audit.jsonl');
    await f.load([
      accountNode(f.sim.url, BOTH, { auditFile }),
      ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'changes' }),
      ...vehicleNode('ford-location', 'exact', { vehicleId: truck.id, optIn: true, interval: 30, precision: 0, output: 'always' }),
      ...vehicleNode('ford-location', 'hood', { vehicleId: truck.id, optIn: true, interval: 30, precision: 100, output: 'changes', minDistance: 50 }),
      ...vehicleNode('ford-location', 'off', { vehicleId: truck.id, optIn: false, interval: 30, precision: 0, output: 'always' }),
    ]);
    await f.authorize(BOTH);
    const ids = ['s1', 'exact', 'hood', 'off'];

    // Reads, a move, an input read, a failed poll, a hostile input and refusals.
    await f.clock.tickAsync(0);
    await until(() => f.of('exact').out.length === 1 && f.of('hood').out.length === 1 && f.of('s1').out.length === 1, 'the first poll');
    expect(f.sim.world.fleet.patch(truck.id, { position: offset(f.of('exact').out[0].payload as VehicleLocation, 400, 400) })).to.equal(undefined);
    await f.clock.tickAsync(30 * SEC);
    await until(() => f.of('exact').out.length === 2 && f.of('hood').out.length === 2, 'the second poll');
    helper.getNode('exact').receive({});
    await until(() => f.of('exact').out.length === 3, 'an input read');
    f.sim.world.faults.errorRate = 1;
    await f.clock.tickAsync(30 * SEC);
    await until(() => f.errors('exact').length === 1 && f.errors('hood').length === 1 && f.errors('s1').length === 1, 'the failed poll');
    f.sim.world.faults.errorRate = 0;
    helper.getNode('hood').receive({ vehicleId: '../x' });
    helper.getNode('off').receive({});
    await until(() => f.errors('hood').length === 2 && f.errors('off').length === 1, 'the refusals');
    await realPause(20);
    await f.account.flushAudit();

    // What to look for: the first four decimals of every position that left a node.
    const positions = ['exact', 'hood'].flatMap((id) => f.of(id).out.map((m) => m.payload as VehicleLocation));
    expect(positions.length).to.be.at.least(5);
    const needles = new Set(positions.flatMap((p) => [p.latitude, p.longitude]).map((n) => Math.abs(n).toFixed(7).slice(0, -3)));
    // The search finds them where they belong (output 1), so it would find them anywhere else.
    const output1 = JSON.stringify(['exact', 'hood'].map((id) => f.of(id).out));
    for (const needle of needles) expect(output1).to.include(needle);

    const audits = ids.flatMap((id) => f.of(id).auditMsgs);
    expect(audits.map((m) => (m.payload as { outcome: string }).outcome)).to.include.members(['ok', 'failed', 'denied']);
    const haystacks: Record<string, string> = {
      'node status': JSON.stringify(ids.map((id) => f.statuses(id))),
      'audit records on output 2': JSON.stringify(audits),
      'the account audit ring': JSON.stringify(f.account.auditRing.list()),
      'the audit file': fs.readFileSync(auditFile, 'utf8'),
      'the log': JSON.stringify(helper.log().args),
      'node errors': JSON.stringify(ids.map((id) => f.errors(id).map(String))),
      'the status output': JSON.stringify(f.of('s1').out),
    };
    for (const [where, text] of Object.entries(haystacks)) {
      expect(text.length, where).to.be.greaterThan(2);
      for (const needle of needles) expect(text, `${needle} in ${where}`).to.not.include(needle);
    }
  });
});
