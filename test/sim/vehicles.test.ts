import { expect } from 'chai';
import { SimClock } from '../../src/sim/clock';
import { SeededRandom } from '../../src/sim/random';
import { Fleet, type FleetSettings } from '../../src/sim/vehicles/fleet';
import { seedFleet } from '../../src/sim/vehicles/seed-fleet';
import { compassDirection, haversineM, Route, ROUTES } from '../../src/sim/vehicles/route';
import { isPlausibleVin, vinCheckDigit } from '../../src/sim/vehicles/vin';
import type { Vehicle } from '../../src/sim/vehicles/vehicle';
import type { CommandKind, CommandRecord } from '../../src/sim/vehicles/commands';

const START = Date.UTC(2025, 4, 5, 12, 0, 0); // a Monday
const MIN = 60_000;
const HOUR = 60 * MIN;
/** The app and owner `run` issues commands as. */
const TEST_ISSUER = { ownerId: 'owner-1', clientId: 'test' };

interface Rig {
  clock: SimClock;
  fleet: Fleet;
  offline: Set<string>;
  byName(nickName: string): Vehicle;
  /** Issues a command and advances past its delay; returns the settled record. */
  run(vehicle: Vehicle, kind: CommandKind): CommandRecord;
}

/** A fleet on a frozen wall clock: only `clock.advance` moves simulated time. */
function rig(seed = 7, settings: Partial<FleetSettings> = {}): Rig {
  const clock = new SimClock(1, START, () => 0);
  const offline = new Set<string>();
  const fleet = new Fleet(clock, new SeededRandom(seed), {
    commandDelayMs: 4000,
    remoteStartMinutes: 10,
    commandIdTtlMs: 120_000,
    isOffline: (id) => offline.has(id),
    ...settings,
  });
  seedFleet(fleet, { owner: 'owner-1', partner: 'owner-2', fleet: 'owner-fleet' });
  const byName = (nickName: string): Vehicle => {
    const v = fleet.list().find((x) => x.nickName === nickName);
    if (!v) throw new Error(`no vehicle ${nickName}`);
    return v;
  };
  const run = (vehicle: Vehicle, kind: CommandKind): CommandRecord => {
    const issued = fleet.issueCommand(vehicle.id, kind, TEST_ISSUER);
    if (!issued.ok) throw new Error(`not issued: ${issued.reason}`);
    expect(fleet.command(vehicle.id, issued.command.id, { kind, issuer: TEST_ISSUER })?.status).to.equal('PENDINGRESPONSE');
    clock.advance(4000);
    const settled = fleet.command(vehicle.id, issued.command.id, { kind, issuer: TEST_ISSUER });
    if (!settled) throw new Error('command vanished');
    return settled;
  };
  return { clock, fleet, offline, byName, run };
}

function patch(fleet: Fleet, v: Vehicle, body: Record<string, unknown>): void {
  const error = fleet.patch(v.id, body);
  expect(error, JSON.stringify(body)).to.equal(undefined);
}

describe('sim vehicles', () => {
  describe('seed fleet', () => {
    it('seeds the owner, partner and fleet vehicles with plausible ids and VINs', () => {
      const { fleet } = rig();
      const all = fleet.list();
      expect(all.map((v) => [v.modelName, v.engineType])).to.deep.equal([
        ['F-150', 'ICE'],
        ['Mustang Mach-E', 'BEV'],
        ['Escape Plug-In Hybrid', 'PHEV'],
        ['E-Transit', 'EV'],
        ['Transit', 'ICE'],
      ]);
      for (const v of all) {
        expect(v.id).to.match(/^[0-9a-f]{32}$/);
        expect(v.vin).to.have.length(17);
        expect(v.vin).not.to.match(/[IOQ]/);
        expect(isPlausibleVin(v.vin), v.vin).to.equal(true);
        expect(v.make).to.equal('Ford');
        expect(v.nickName).to.be.a('string').and.not.equal('');
        expect(v.modelYear).to.match(/^20\d\d$/);
      }
      expect(fleet.ownedBy('owner-1').map((v) => v.modelName)).to.deep.equal(['F-150', 'Mustang Mach-E', 'Escape Plug-In Hybrid']);
      expect(fleet.ownedBy('owner-2').map((v) => v.modelName)).to.deep.equal(['Mustang Mach-E']);
      expect(fleet.ownedBy('owner-fleet').map((v) => v.modelName)).to.deep.equal(['E-Transit', 'Transit']);
      expect(fleet.ownedBy('nobody')).to.deep.equal([]);
    });

    it('is reproducible: one seed, one fleet; another seed, other ids', () => {
      const ids = (seed: number) => rig(seed).fleet.list().map((v) => `${v.id} ${v.vin}`);
      expect(ids(7)).to.deep.equal(ids(7));
      expect(ids(8)).not.to.deep.equal(ids(7));
    });

    it('computes the VIN check digit like the standard', () => {
      // The textbook example: check digit X.
      expect(vinCheckDigit('1M8GDM9AXKP042788')).to.equal('X');
      expect(isPlausibleVin('1M8GDM9AXKP042788')).to.equal(true);
      expect(isPlausibleVin('1M8GDM9A1KP042788')).to.equal(false);
      expect(isPlausibleVin('1M8GDM9AXKP04278O')).to.equal(false);
    });
  });

  describe('routes', () => {
    it('loops: distance wraps, heading and speed come from the segment', () => {
      const route = new Route('square', [
        { lat: 0, lon: 0, kph: 30 },
        { lat: 0.01, lon: 0, kph: 60 },
        { lat: 0.01, lon: 0.01, kph: 50 },
        { lat: 0, lon: 0.01, kph: 40 },
      ]);
      const side = haversineM(0, 0, 0.01, 0);
      expect(route.lengthM).to.be.closeTo(4 * side, 5);
      const start = route.at(0);
      expect([start.lat, start.lon, start.kph]).to.deep.equal([0, 0, 30]);
      expect(compassDirection(start.headingDeg)).to.equal('North');
      const second = route.at(side * 1.5);
      expect(second.kph).to.equal(60);
      expect(compassDirection(second.headingDeg)).to.equal('East');
      expect(second.lat).to.be.closeTo(0.01, 1e-6);
      expect(second.lon).to.be.closeTo(0.005, 1e-4);
      const wrapped = route.at(route.lengthM + 10);
      expect(wrapped.lat).to.be.closeTo(route.at(10).lat, 1e-9);
      expect(compassDirection(route.at(side * 3.5).headingDeg)).to.equal('West');
      expect(compassDirection(route.at(side * 2.5).headingDeg)).to.equal('South');
    });

    it('names eight compass points as Ford spells them', () => {
      expect([0, 44, 46, 90, 135, 180, 225, 270, 315, 359].map(compassDirection)).to.deep.equal([
        'North', 'NorthEast', 'NorthEast', 'East', 'SouthEast', 'South', 'SouthWest', 'West', 'NorthWest', 'North',
      ]);
    });

    it('keeps the seeded routes somewhere plausible (south-east Michigan)', () => {
      for (const route of Object.values(ROUTES)) {
        for (const p of route.points) {
          expect(p.lat).to.be.within(42.2, 42.4);
          expect(p.lon).to.be.within(-83.8, -83.0);
        }
        expect(route.lengthM).to.be.within(2_000, 20_000);
      }
    });
  });

  describe('driving', () => {
    it('moves along the route, grows the odometer and drains fuel at its consumption', () => {
      const { clock, fleet, byName } = rig();
      const truck = byName('Work Truck');
      const before = truck.view();
      patch(fleet, truck, { driving: true, speedKph: 60 });
      clock.advance(10 * MIN);
      const after = fleet.get(truck.id)!.view();
      expect(after.odometerKm - before.odometerKm).to.be.closeTo(10, 1e-6);
      // 10 km at 12.4 L/100 km from a 98 L tank
      expect(before.fuelPercent! - after.fuelPercent!).to.be.closeTo((1.24 / 98) * 100, 1e-6);
      expect([after.lat, after.lon]).not.to.deep.equal([before.lat, before.lon]);
      expect(after.speedKph).to.equal(60);
      expect(after.ignitionOn).to.equal(true);
      expect(after.fuelRangeKm).to.be.closeTo(((after.fuelPercent! / 100) * 98) / 12.4 * 100, 1e-6);
    });

    it('follows each segment at its own speed when no speed is set', () => {
      const { clock, fleet, byName } = rig();
      const truck = byName('Work Truck');
      patch(fleet, truck, { driving: true });
      const first = truck.view();
      expect(first.speedKph).to.equal(ROUTES.dearborn.points[0].kph);
      // The first segment is about 745 m at 30 km/h: 89 s; after 2 minutes the truck is on Michigan Ave, westbound.
      clock.advance(2 * MIN);
      const later = fleet.get(truck.id)!.view();
      expect(later.speedKph).to.equal(ROUTES.dearborn.points[1].kph);
      expect(later.direction).to.equal('West');
    });

    it('stops where the tank runs dry', () => {
      const { clock, fleet, byName } = rig();
      const truck = byName('Work Truck');
      patch(fleet, truck, { fuelPercent: 0.5, driving: true, speedKph: 50 });
      const odo = truck.view().odometerKm;
      clock.advance(HOUR);
      const v = fleet.get(truck.id)!.view();
      expect(v.driving).to.equal(false);
      expect(v.fuelPercent).to.equal(0);
      expect(v.odometerKm - odo).to.be.closeTo((0.005 * 98) / 12.4 * 100, 1e-6);
      expect(fleet.patch(truck.id, { driving: true })).to.match(/no fuel or charge/);
    });

    it('runs a PHEV on its battery first, then on fuel', () => {
      const { clock, fleet, byName } = rig();
      const escape = byName('Family Escape');
      patch(fleet, escape, { batteryPercent: 10, fuelPercent: 50, driving: true, speedKph: 60 });
      // 10 % of 11.1 kWh at 18.5 kWh/100 km = 6 km = 6 minutes at 60 km/h
      clock.advance(5 * MIN);
      let v = fleet.get(escape.id)!.view();
      expect(v.fuelPercent).to.equal(50);
      expect(v.batteryPercent).to.be.greaterThan(0);
      clock.advance(5 * MIN);
      v = fleet.get(escape.id)!.view();
      expect(v.batteryPercent).to.equal(0);
      expect(v.fuelPercent).to.be.lessThan(50);
      expect(v.driving).to.equal(true);
      // 4 km on fuel at 5.9 L/100 km from 41.6 L
      expect(50 - v.fuelPercent!).to.be.closeTo((0.04 * 5.9) / 41.6 * 100, 1e-6);
    });

    it('refuses to drive plugged in, and parks off-route only when parked', () => {
      const { fleet, byName } = rig();
      const machE = byName('Sky');
      expect(fleet.patch(machE.id, { driving: true })).to.match(/plugged-in vehicle cannot drive/);
      patch(fleet, machE, { plugged: false, driving: true });
      expect(fleet.patch(machE.id, { position: { lat: 42.0, lon: -83.0 } })).to.match(/parked vehicle/);
      patch(fleet, machE, { driving: false, position: { lat: 42.3, lon: -83.1 } });
      const v = machE.view();
      expect([v.lat, v.lon, v.speedKph, v.ignitionOn]).to.deep.equal([42.3, -83.1, 0, false]);
    });

    it('gives the same state whether read every minute or once', () => {
      const a = rig();
      const b = rig();
      for (const r of [a, b]) patch(r.fleet, r.byName('Work Truck'), { driving: true });
      for (let i = 0; i < 90; i++) {
        a.clock.advance(MIN);
        a.fleet.get(a.byName('Work Truck').id);
      }
      b.clock.advance(90 * MIN);
      const va = a.byName('Work Truck').view();
      const vb = b.byName('Work Truck').view();
      expect(va.odometerKm).to.be.closeTo(vb.odometerKm, 1e-6);
      expect(va.fuelPercent!).to.be.closeTo(vb.fuelPercent!, 1e-6);
      expect(va.lat).to.be.closeTo(vb.lat, 1e-9);
      expect(va.lon).to.be.closeTo(vb.lon, 1e-9);
    });
  });

  describe('charging', () => {
    it('charges at the charger power, stops at the target and says so', () => {
      const { clock, fleet, byName, run } = rig();
      const machE = byName('Sky');
      expect(machE.view().chargingStatus).to.equal('Ready');
      expect(run(machE, 'startCharge').status).to.equal('COMPLETED');
      let v = fleet.get(machE.id)!.view();
      expect(v.charging).to.equal(true);
      expect(v.chargingStatus).to.equal('ChargingAC');
      expect(v.chargeStartedAt).to.equal(START + 4000);
      const start = v.batteryPercent!;
      clock.advance(HOUR);
      v = fleet.get(machE.id)!.view();
      // 10.5 kW at 90 % efficiency into 91 kWh
      expect(v.batteryPercent! - start).to.be.closeTo(((10.5 * 0.9) / 91) * 100, 1e-6);
      const eta = v.chargeEndAt!;
      expect(eta).to.be.closeTo(clock.now() + ((90 - v.batteryPercent!) / (((10.5 * 0.9) / 91) * 100)) * HOUR, 1);
      clock.advance(10 * HOUR);
      v = fleet.get(machE.id)!.view();
      expect(v.batteryPercent).to.equal(90);
      expect(v.charging).to.equal(false);
      expect(v.chargingStatus).to.equal('ChargeTargetReached');
      expect(v.chargeEndAt).to.be.closeTo(eta, 1);
      expect(v.batteryRangeKm).to.be.closeTo((0.9 * 91) / 19.5 * 100, 1e-6);
    });

    it('charges DC faster, pauses on stopCharge, starts by itself when plugged in', () => {
      const { clock, fleet, byName, run } = rig();
      const machE = byName('Sky');
      patch(fleet, machE, { chargerType: 'DC', chargerKw: 150, charging: true });
      expect(machE.view().chargingStatus).to.equal('ChargingDC');
      clock.advance(10 * MIN);
      expect(fleet.get(machE.id)!.view().batteryPercent! - 54).to.be.closeTo(((150 * 0.9) / 91) * 100 / 6, 1e-6);
      expect(run(machE, 'stopCharge').status).to.equal('COMPLETED');
      const paused = fleet.get(machE.id)!.view();
      expect(paused.chargingStatus).to.equal('EvsePaused');
      clock.advance(HOUR);
      expect(fleet.get(machE.id)!.view().batteryPercent).to.equal(paused.batteryPercent);
      patch(fleet, machE, { plugged: false });
      expect(machE.view().chargingStatus).to.equal('EvseNotDetected');
      patch(fleet, machE, { plugged: true, chargerType: 'AC', chargerKw: 7 });
      expect(machE.view().chargingStatus).to.equal('ChargingAC');
    });

    it('lets the charger cover a preconditioning cabin: the battery gains the difference', () => {
      const { clock, fleet, byName } = rig();
      const machE = byName('Sky');
      patch(fleet, machE, { charging: true, remoteStartMinutesLeft: 10 });
      clock.advance(10 * MIN);
      const gained = fleet.get(machE.id)!.view().batteryPercent! - 54;
      // (10.5 kW * 0.9 - 3 kW climate) for 10 minutes into 91 kWh
      expect(gained).to.be.closeTo(((10.5 * 0.9 - 3) / 6 / 91) * 100, 1e-6);
      expect(fleet.get(machE.id)!.view().engineRunning).to.equal(false);
    });

    it('fails startCharge when unplugged; refuses charge commands and plugs on ICE', () => {
      const { fleet, byName, run } = rig();
      const escape = byName('Family Escape');
      const failed = run(escape, 'startCharge');
      expect([failed.status, failed.reason]).to.deep.equal(['FAILED', 'not plugged in']);
      const truck = byName('Work Truck');
      expect(fleet.issueCommand(truck.id, 'startCharge')).to.deep.equal({ ok: false, reason: 'not-supported' });
      expect(fleet.issueCommand(truck.id, 'stopCharge')).to.deep.equal({ ok: false, reason: 'not-supported' });
      expect(fleet.patch(truck.id, { plugged: true })).to.match(/no charge port/);
      expect(fleet.patch(escape.id, { chargerType: 'DC' })).to.match(/no DC fast charging/);
      expect(fleet.issueCommand('0'.repeat(32), 'lock')).to.deep.equal({ ok: false, reason: 'unknown-vehicle' });
    });
  });

  describe('commands', () => {
    it('stays PENDINGRESPONSE for the delay, then changes the state', () => {
      const { clock, fleet, byName } = rig();
      const escape = byName('Family Escape');
      expect(escape.view().locked).to.equal(false);
      const issued = fleet.issueCommand(escape.id, 'lock');
      if (!issued.ok) throw new Error('not issued');
      expect(issued.command.id).to.match(/^[0-9a-f]{32}$/);
      clock.advance(3999);
      expect(fleet.command(escape.id, issued.command.id, { kind: 'lock' })?.status).to.equal('PENDINGRESPONSE');
      expect(fleet.get(escape.id)!.view().locked).to.equal(false);
      clock.advance(1);
      expect(fleet.command(escape.id, issued.command.id, { kind: 'lock' })?.status).to.equal('COMPLETED');
      const v = fleet.get(escape.id)!;
      expect([v.view().locked, v.view().alarmSet]).to.deep.equal([true, true]);
      expect(v.reported().at).to.equal(START + 4000);
      expect(fleet.command(byName('Work Truck').id, issued.command.id, { kind: 'lock' }), 'another vehicle').to.equal(undefined);
    });

    it('shows a command only under its own kind and to the app and owner that issued it', () => {
      const { fleet, byName } = rig();
      const truck = byName('Work Truck');
      const issuer = { clientId: 'app-a', ownerId: 'owner-1' };
      const lock = fleet.issueCommand(truck.id, 'lock', issuer);
      const refresh = fleet.issueCommand(truck.id, 'status', issuer);
      if (!lock.ok || !refresh.ok) throw new Error('not issued');
      expect(fleet.command(truck.id, lock.command.id, { kind: 'lock', issuer })?.id).to.equal(lock.command.id);
      expect(fleet.command(truck.id, lock.command.id.toUpperCase(), { kind: 'lock', issuer: { ...issuer } })?.id, 'any letter case, an equal issuer').to.equal(lock.command.id);
      expect(fleet.command(truck.id, refresh.command.id, { kind: 'status', issuer })?.id).to.equal(refresh.command.id);
      for (const kind of ['unlock', 'status', 'location', 'startEngine'] as const) {
        expect(fleet.command(truck.id, lock.command.id, { kind, issuer }), `a lock read as ${kind}`).to.equal(undefined);
      }
      expect(fleet.command(truck.id, refresh.command.id, { kind: 'lock', issuer }), 'a refresh read as a lock').to.equal(undefined);
      expect(fleet.command(truck.id, lock.command.id, { kind: 'lock', issuer: { clientId: 'app-b', ownerId: 'owner-1' } }), 'another app').to.equal(undefined);
      expect(fleet.command(truck.id, lock.command.id, { kind: 'lock', issuer: { clientId: 'app-a', ownerId: 'owner-2' } }), 'another owner').to.equal(undefined);
      expect(fleet.command(truck.id, lock.command.id, { kind: 'lock' }), 'no caller named').to.equal(undefined);
      const anonymous = fleet.issueCommand(truck.id, 'lock');
      if (!anonymous.ok) throw new Error('not issued');
      expect(fleet.command(truck.id, anonymous.command.id, { kind: 'lock', issuer }), 'a command issued without a caller').to.equal(undefined);
    });

    it('makes command ids unpredictable from the seed unless a key is given', () => {
      const ids = (settings: Partial<FleetSettings>): string[] => {
        const { fleet, byName } = rig(7, settings);
        const truck = byName('Work Truck');
        return [0, 1].map(() => {
          const issued = fleet.issueCommand(truck.id, 'lock', TEST_ISSUER);
          if (!issued.ok) throw new Error('not issued');
          return issued.command.id;
        });
      };
      const [a, b] = [ids({}), ids({})];
      for (const id of [...a, ...b]) expect(id).to.match(/^[0-9a-f]{32}$/);
      expect(a, 'one seed, two runs, no key').not.to.deep.equal(b);
      expect(a[0]).not.to.equal(b[0]);
      expect(ids({ commandIdKey: 'k' }), 'one seed and one key').to.deep.equal(ids({ commandIdKey: 'k' }));
      expect(ids({ commandIdKey: 'k' })).not.to.deep.equal(ids({ commandIdKey: 'other' }));
      // The key changes only the ids: the seeded stream (vehicles, fault draws) moves exactly as before.
      const nextDraw = (settings: Partial<FleetSettings>): number => {
        const { fleet, byName } = rig(7, settings);
        fleet.issueCommand(byName('Work Truck').id, 'lock', TEST_ISSUER);
        return fleet.random.next();
      };
      expect(nextDraw({})).to.equal(nextDraw({ commandIdKey: 'k' }));
    });

    it('fails lock with a door ajar, and start with the hood open or a driver in', () => {
      const { fleet, byName, run } = rig();
      const escape = byName('Family Escape');
      patch(fleet, escape, { doorsOpen: ['REAR_LEFT'] });
      const lock = run(escape, 'lock');
      expect([lock.status, lock.reason]).to.deep.equal(['FAILED', 'door ajar: REAR_LEFT']);
      expect(escape.view().locked).to.equal(false);
      patch(fleet, escape, { doorsOpen: ['HOOD_DOOR'] });
      expect(run(escape, 'startEngine').reason).to.equal('hood open');
      patch(fleet, escape, { doorsOpen: [], ignition: 'ON' });
      expect(run(escape, 'startEngine').reason).to.equal('ignition is on');
      patch(fleet, escape, { ignition: 'OFF', driving: true });
      expect(run(escape, 'startEngine').reason).to.equal('vehicle is being driven');
      expect(run(escape, 'stopEngine').reason).to.equal('vehicle is being driven');
      patch(fleet, escape, { driving: false });
      expect(run(escape, 'lock').status).to.equal('COMPLETED');
    });

    it('runs a remote start for its window, burning fuel, then turns it off', () => {
      const { clock, fleet, byName, run } = rig();
      const truck = byName('Work Truck');
      expect(run(truck, 'startEngine').status).to.equal('COMPLETED');
      let v = fleet.get(truck.id)!.view();
      expect([v.engineRunning, v.remoteStartMinutesLeft, v.ignitionOn]).to.deep.equal([true, 10, true]);
      clock.advance(4 * MIN);
      expect(fleet.get(truck.id)!.view().remoteStartMinutesLeft).to.equal(6);
      clock.advance(6 * MIN);
      v = fleet.get(truck.id)!.view();
      expect([v.engineRunning, v.remoteStartMinutesLeft, v.ignitionOn]).to.deep.equal([false, 0, false]);
      // 10 minutes idling at 2.2 L/h from a 98 L tank
      expect(62 - v.fuelPercent!).to.be.closeTo(((2.2 / 6) / 98) * 100, 1e-6);
      expect(run(truck, 'startEngine').status).to.equal('COMPLETED');
      expect(run(truck, 'stopEngine').status).to.equal('COMPLETED');
      expect(fleet.get(truck.id)!.view().engineRunning).to.equal(false);
    });

    it('fails every command of an offline vehicle, whose reports go stale', () => {
      const { clock, fleet, byName, run, offline } = rig();
      const truck = byName('Work Truck');
      const reportedAt = truck.reported().at;
      offline.add(truck.id);
      const lock = run(truck, 'unlock');
      expect([lock.status, lock.reason]).to.deep.equal(['FAILED', 'vehicle offline: the modem did not answer']);
      patch(fleet, truck, { driving: true, speedKph: 60 });
      clock.advance(30 * MIN);
      const stale = fleet.get(truck.id)!.reported();
      expect(stale.at).to.equal(reportedAt);
      expect(stale.view.driving).to.equal(false);
      expect(fleet.get(truck.id)!.view().odometerKm - stale.view.odometerKm).to.be.closeTo(30, 1e-6);
      offline.delete(truck.id);
      const fresh = fleet.get(truck.id)!.reported();
      expect(fresh.at).to.equal(clock.now());
      expect(fresh.view.odometerKm).to.be.closeTo(stale.view.odometerKm + 30, 1e-6);
    });

    it('answers a status refresh with lock and alarm, and forgets command ids after their lifetime', () => {
      const { clock, fleet, byName, run } = rig();
      const truck = byName('Work Truck');
      const refresh = run(truck, 'status');
      expect(refresh.status).to.equal('COMPLETED');
      expect(refresh.result).to.deep.equal({ locked: true, alarmSet: true, at: START + 4000 });
      expect(truck.reported().at).to.equal(START + 4000);
      clock.advance(120_000 - 4000 - 1);
      expect(fleet.command(truck.id, refresh.id, { kind: 'status', issuer: TEST_ISSUER })).not.to.equal(undefined);
      clock.advance(1);
      expect(fleet.command(truck.id, refresh.id, { kind: 'status', issuer: TEST_ISSUER })).to.equal(undefined);
    });

    it('costs the 12 V battery; a drained one sends the modem to deep sleep until a wake', () => {
      const { fleet, byName, run } = rig();
      const truck = byName('Work Truck');
      const before = truck.view().battery12VPercent;
      run(truck, 'status');
      expect(before - fleet.get(truck.id)!.view().battery12VPercent).to.be.closeTo(0.2, 1e-9);
      patch(fleet, truck, { battery12VPercent: 15 });
      expect(truck.view().deepSleep).to.equal(true);
      expect(run(truck, 'unlock').reason).to.match(/deep sleep/);
      expect(run(truck, 'wake').reason).to.match(/12 V battery too low/);
      patch(fleet, truck, { battery12VPercent: 60 });
      expect(run(truck, 'wake').status).to.equal('COMPLETED');
      expect(truck.view().deepSleep).to.equal(false);
      expect(run(truck, 'unlock').status).to.equal('COMPLETED');
      patch(fleet, truck, { firmwareUpgrade: true });
      expect(run(truck, 'signal').reason).to.equal('firmware upgrade in progress');
      patch(fleet, truck, { firmwareUpgrade: false });
      const signal = run(truck, 'signal');
      expect(signal.status).to.equal('COMPLETED');
      expect(truck.view().lastSignalAt).to.equal(signal.dueAt);
    });

    it('settles due commands in time order and tells listeners once each', () => {
      const { clock, fleet, byName } = rig();
      const escape = byName('Family Escape');
      const seen: string[] = [];
      const off = fleet.onCommandSettled((c) => seen.push(`${c.kind}:${c.status}`));
      fleet.issueCommand(escape.id, 'lock');
      clock.advance(1000);
      fleet.issueCommand(escape.id, 'unlock');
      clock.advance(HOUR);
      fleet.get(escape.id);
      fleet.list();
      expect(seen).to.deep.equal(['lock:COMPLETED', 'unlock:COMPLETED']);
      expect(escape.view().locked).to.equal(false);
      off();
      fleet.issueCommand(escape.id, 'lock');
      clock.advance(HOUR);
      fleet.get(escape.id);
      expect(seen).to.have.length(2);
      fleet.stop();
    });
  });

  describe('test control patch and snapshot', () => {
    it('applies a valid patch as a whole and refuses a bad one without changing anything', () => {
      const { fleet, byName } = rig();
      const truck = byName('Work Truck');
      const before = fleet.snapshot(truck.id);
      for (const bad of [
        [1],
        'x',
        { noSuchField: 1 },
        { locked: 'yes' },
        { doorsOpen: ['SUNROOF'] },
        { doorsOpen: 'REAR_LEFT' },
        { fuelPercent: 101 },
        { fuelPercent: Number.NaN },
        { batteryPercent: 50 },
        { ignition: 'on' },
        { position: { lat: 91, lon: 0 } },
        { position: { lat: 1, lon: 2, alt: 3 } },
        { tirePressureKpa: [200, 200] },
        { locked: false, fuelPercent: -1 },
      ]) {
        expect(fleet.patch(truck.id, bad), JSON.stringify(bad)).to.be.a('string');
      }
      expect(fleet.snapshot(truck.id)).to.deep.equal(before);
      expect(fleet.patch('nope', {})).to.match(/unknown vehicle/);
      expect(fleet.patch(truck.id, {})).to.equal(undefined);
      patch(fleet, truck, { locked: false, doorsOpen: ['REAR_LEFT', 'TAILGATE'], fuelPercent: 12.5, odometerKm: 100, tirePressureKpa: 180, position: { lat: 42.1, lon: -83.5 } });
      const after = fleet.snapshot(truck.id)!;
      expect(after).to.include({ locked: false, alarm: false, fuelPercent: 12.5, odometerKm: 100, tirePressureWarning: true });
      expect(after.doorsOpen).to.deep.equal(['REAR_LEFT', 'TAILGATE']);
      expect(after.position).to.deep.equal({ lat: 42.1, lon: -83.5 });
    });

    it('is plain JSON and stands still while a parked vehicle does nothing', () => {
      const { clock, fleet, byName } = rig();
      const id = byName('Sky').id;
      const snap = fleet.snapshot(id);
      expect(JSON.parse(JSON.stringify(snap))).to.deep.equal(snap);
      clock.advance(HOUR);
      expect(fleet.snapshot(id)).to.deep.equal(snap);
      expect(fleet.snapshot('nope')).to.equal(undefined);
      expect(snap).to.include({ engineType: 'BEV', plugged: true, chargingStatus: 'Ready', online: true });
      expect(snap?.ownerIds).to.deep.equal(['owner-1', 'owner-2']);
    });

    it('sets a remote start window and the 12 V battery from the control API', () => {
      const { clock, fleet, byName } = rig();
      const truck = byName('Work Truck');
      patch(fleet, truck, { remoteStartMinutesLeft: 3 });
      expect(truck.view().remoteStartMinutesLeft).to.equal(3);
      clock.advance(3 * MIN);
      expect(fleet.get(truck.id)!.view().engineRunning).to.equal(false);
    });
  });
});
