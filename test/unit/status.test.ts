import { expect } from 'chai';
import { ApiError } from '../../src/lib/api/errors';
import { mapFconQueryLocation, mapFconQueryStatus, telemetryForLocation, telemetryForStatus } from '../../src/lib/api/fcon-query-status';
import {
  changedFields,
  compassDegrees,
  distanceMetres,
  mapFordConnectV1Location,
  mapFordConnectV1Status,
  roundPosition,
  withoutLocation,
  type VehicleStatus,
} from '../../src/lib/api/status';
import { normaliseTimestamp, num } from '../../src/lib/api/wire-values';

const ID = '97da2849d73eb438a907d090402c802d';

/** A FordConnect v1 vehicle information body, as the simulator and Ford send it. */
function v1Body(overrides: { vehicle?: Record<string, unknown>; details?: Record<string, unknown>; status?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    status: 'SUCCESS',
    vehicle: {
      vehicleId: ID,
      make: 'F',
      modelName: 'Mustang Mach-E',
      modelYear: '2023',
      nickName: 'Sky',
      engineType: 'EV',
      lastUpdated: '11-25-2026 08:11:31',
      vehicleDetails: {
        fuelLevel: { value: null, distanceToEmpty: 0.0, timestamp: null },
        batteryChargeLevel: { value: 54, distanceToEmpty: 252, timestamp: '2026-11-25T08:11:31.325Z' },
        mileage: 5723.3,
        odometer: 9210.8,
        ...overrides.details,
      },
      vehicleStatus: {
        tirePressureWarning: false,
        deepSleepInProgress: false,
        firmwareUpgradeInProgress: false,
        remoteStartStatus: { status: 'ENGINE_RUNNING', duration: 12, timeStamp: '11-25-2026 08:11:31' },
        chargingStatus: { value: 'ChargingAC', timeStamp: '11-25-2026 08:11:31', chargeStartTime: '11-25-2026 07:00:00', chargeEndTime: '11-25-2026 10:30:00' },
        plugStatus: { value: true, timeStamp: '11-25-2026 08:11:31' },
        ignitionStatus: { value: 'OFF', timeStamp: '11-25-2026 08:11:31' },
        doorStatus: [
          { vehicleDoor: 'UNSPECIFIED_FRONT', vehicleOccupantRole: 'DRIVER', value: 'OPEN', timeStamp: '11-25-2026 08:11:31' },
          { vehicleDoor: 'UNSPECIFIED_FRONT', vehicleOccupantRole: 'PASSENGER', value: 'CLOSED', timeStamp: '11-25-2026 08:11:31' },
          { vehicleDoor: 'REAR_LEFT', vehicleOccupantRole: 'PASSENGER', value: 'CLOSED', timeStamp: '11-25-2026 08:11:31' },
          { vehicleDoor: 'REAR_RIGHT', vehicleOccupantRole: 'PASSENGER', value: 'CLOSED', timeStamp: '11-25-2026 08:11:31' },
          { vehicleDoor: 'HOOD_DOOR', vehicleOccupantRole: 'NOT_APPLICABLE', value: 'CLOSED', timeStamp: '11-25-2026 08:11:31' },
          { vehicleDoor: 'TAILGATE', vehicleOccupantRole: 'NOT_APPLICABLE', value: 'OPEN', timeStamp: '11-25-2026 08:11:31' },
          { vehicleDoor: 'INNER_TAILGATE', vehicleOccupantRole: 'NOT_APPLICABLE', value: 'CLOSED', timeStamp: '11-25-2026 08:11:31' },
        ],
        lockStatus: { value: 'UNLOCKED', timestamp: '2026-11-25T08:11:31.324Z' },
        alarm: { value: 'NOTSET', timestamp: '2026-11-25T08:11:31.324Z' },
        ...overrides.status,
      },
      vehicleLocation: { longitude: '-83.212100', latitude: '42.315700', speed: 0, direction: 'North', timeStamp: '2026-11-25T08:11:31.324Z' },
      ...overrides.vehicle,
    },
  };
}

describe('lib/api/status: FordConnect v1 mapping', () => {
  it('maps every field of a full body', () => {
    const status = mapFordConnectV1Status(v1Body());
    expect(status).to.deep.equal({
      vehicleId: ID,
      name: 'Sky',
      engineType: 'BEV',
      lock: 'unlocked',
      alarm: 'disarmed',
      battery: { level: 54, rangeKm: 252, updated: '2026-11-25T08:11:31.325Z' },
      odometerKm: 9210.8,
      ignition: 'off',
      engine: { running: true, remainingMinutes: 12 },
      doors: { driver: 'open', passenger: 'closed', rearLeft: 'closed', rearRight: 'closed', hood: 'closed', tailgate: 'open', innerTailgate: 'closed' },
      tyres: { warning: false },
      charging: {
        status: 'charging',
        plugged: true,
        fordStatus: 'ChargingAC',
        power: 'ac',
        startTime: '2026-11-25T07:00:00.000Z',
        endTime: '2026-11-25T10:30:00.000Z',
        updated: '2026-11-25T08:11:31.000Z',
      },
      deepSleep: false,
      firmwareUpdating: false,
      lastUpdated: '2026-11-25T08:11:31.000Z',
    } satisfies VehicleStatus);
  });

  it('never carries the position, speed or heading in the status or its raw body', () => {
    const body = v1Body();
    const status = mapFordConnectV1Status(body);
    const text = JSON.stringify(status) + JSON.stringify(withoutLocation(body));
    expect(text).to.not.include('42.3157');
    expect(text).to.not.include('vehicleLocation');
    // The original body is not modified.
    expect((body.vehicle as Record<string, unknown>).vehicleLocation).to.be.an('object');
  });

  it('leaves absent what the vehicle did not report (never zero)', () => {
    const status = mapFordConnectV1Status({ vehicle: { vehicleId: ID } });
    expect(status).to.deep.equal({ vehicleId: ID, lock: 'unknown' });
    // The tank of an electric vehicle: Ford's `{ value: null, distanceToEmpty: 0 }` is no fuel at all.
    expect(mapFordConnectV1Status(v1Body())).to.not.have.property('fuel');
  });

  it('reads a fuel vehicle, clamps levels above 100 and omits charging for ICE', () => {
    const status = mapFordConnectV1Status(
      v1Body({
        vehicle: { engineType: 'ICE' },
        details: { fuelLevel: { value: 104.6, distanceToEmpty: 610.5, timestamp: '2026-11-25T08:11:31Z' }, batteryChargeLevel: { value: null, distanceToEmpty: 0, timestamp: null } },
        status: { remoteStartStatus: { status: 'ENGINE_STOPPED', duration: 0, timeStamp: '11-25-2026 08:11:31' }, chargingStatus: { value: 'EvseNotDetected' }, plugStatus: { value: false } },
      }),
    );
    expect(status.fuel).to.deep.equal({ level: 100, rangeKm: 610.5, updated: '2026-11-25T08:11:31.000Z' });
    expect(status.battery).to.equal(undefined);
    expect(status.charging).to.equal(undefined);
    expect(status.engine).to.deep.equal({ running: false });
    expect(mapFordConnectV1Status(v1Body({ details: { batteryChargeLevel: { value: -3 } } })).battery).to.deep.equal({ level: 0 });
  });

  it('turns numeric strings into numbers and wrong types into absence', () => {
    const status = mapFordConnectV1Status(
      v1Body({
        vehicle: { nickName: 42, engineType: ['BEV'] },
        details: { batteryChargeLevel: { value: '81.5', distanceToEmpty: '300', timestamp: 'yesterday' }, odometer: 'far' },
        status: { tirePressureWarning: 'true', deepSleepInProgress: 'maybe', doorStatus: 'OPEN', ignitionStatus: { value: 7 }, lockStatus: 'LOCKED', alarm: { value: 'SET' } },
      }),
    );
    expect(status.battery).to.deep.equal({ level: 81.5, rangeKm: 300 });
    expect(status).to.not.have.any.keys('name', 'engineType', 'odometerKm', 'doors', 'ignition', 'deepSleep');
    expect(status.tyres).to.deep.equal({ warning: true });
    expect(status.lock).to.equal('unknown');
    expect(status.alarm).to.equal('armed');
    // Engine type unknown: charging is kept because the vehicle has a traction battery.
    expect(status.charging?.status).to.equal('charging');
  });

  it('maps every charging spelling Ford uses', () => {
    const cases: [string, string][] = [
      ['EvseNotDetected', 'not-plugged'],
      ['Ready', 'plugged'],
      ['NotReady', 'not-ready'],
      ['ChargingDC', 'charging'],
      ['ChargeTargetReached', 'complete'],
      ['EvsePaused', 'paused'],
      ['ChargeScheduled', 'scheduled'],
      ['FaultDetected', 'fault'],
      ['SomethingNew', 'unknown'],
    ];
    for (const [ford, ours] of cases) {
      const status = mapFordConnectV1Status(v1Body({ status: { chargingStatus: { value: ford } } }));
      expect(status.charging?.status, ford).to.equal(ours);
      expect(status.charging?.fordStatus).to.equal(ford);
    }
    expect(mapFordConnectV1Status(v1Body({ status: { chargingStatus: { value: 'ChargingDC' } } })).charging?.power).to.equal('dc');
  });

  it('falls back to the newest field time when lastUpdated is missing', () => {
    const status = mapFordConnectV1Status(v1Body({ vehicle: { lastUpdated: undefined }, status: { lockStatus: { value: 'LOCKED', timestamp: '2026-11-26T01:00:00Z' } } }));
    expect(status.lastUpdated).to.equal('2026-11-26T01:00:00.000Z');
    expect(status.lock).to.equal('locked');
  });

  it('refuses bodies without a vehicle as bad-response', () => {
    for (const body of [null, undefined, 'text', [], {}, { vehicle: 'x' }, { vehicle: [] }, { status: 'SUCCESS', vehicles: [] }]) {
      const err = (() => {
        try {
          mapFordConnectV1Status(body);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, JSON.stringify(body)).to.be.instanceOf(ApiError);
      expect((err as ApiError).kind).to.equal('bad-response');
    }
    // A vehicle without an id takes the one asked for.
    expect(mapFordConnectV1Status({ vehicle: {} }, ID).vehicleId).to.equal(ID);
    expect(() => mapFordConnectV1Status({ vehicle: {} })).to.throw(ApiError);
  });
});

describe('lib/api/status: timestamps and numbers', () => {
  it('normalises both of Ford timestamp formats to ISO 8601 UTC', () => {
    expect(normaliseTimestamp('11-25-2026 08:11:31')).to.equal('2026-11-25T08:11:31.000Z');
    expect(normaliseTimestamp('01-02-2027 23:59:59')).to.equal('2027-01-02T23:59:59.000Z');
    expect(normaliseTimestamp('2026-11-25T08:11:31.324Z')).to.equal('2026-11-25T08:11:31.324Z');
    expect(normaliseTimestamp('2026-11-25T10:11:31+02:00')).to.equal('2026-11-25T08:11:31.000Z');
    expect(normaliseTimestamp('2026-11-25T08:11:31')).to.equal('2026-11-25T08:11:31.000Z');
    expect(normaliseTimestamp('2025-08-15T21:53:06.41924Z')).to.equal('2025-08-15T21:53:06.419Z');
  });

  it('refuses what is not a time', () => {
    for (const v of [null, undefined, 0, 1732522291000, '', 'now', '13-01-2026 00:00:00', '02-31-2026 00:00:00', '2026-02-30T00:00:00Z', '11/25/2026 08:11:31']) {
      expect(normaliseTimestamp(v), String(v)).to.equal(undefined);
    }
  });

  it('reads numbers from strings only when the whole string is a number', () => {
    expect(num('42.315700')).to.equal(42.3157);
    expect(num(' -83.2121 ')).to.equal(-83.2121);
    expect(num('1e3')).to.equal(1000);
    for (const v of ['', '12abc', '0x10', 'NaN', 'Infinity', NaN, Infinity, null, true, {}]) expect(num(v), String(v)).to.equal(undefined);
  });
});

describe('lib/api/status: location mapping', () => {
  it('maps FordConnect v1 string coordinates and compass directions', () => {
    const loc = mapFordConnectV1Location({ status: 'SUCCESS', vehicleLocation: { longitude: '-83.212100', latitude: '42.315700', speed: 48.3, direction: 'SouthWest', timeStamp: '11-25-2026 08:11:31' } });
    expect(loc).to.deep.equal({ latitude: 42.3157, longitude: -83.2121, heading: 225, speed: 48.3, time: '2026-11-25T08:11:31.000Z' });
  });

  it('keeps only what is there, and refuses a body without a valid position', () => {
    expect(mapFordConnectV1Location({ vehicleLocation: { latitude: 1, longitude: 2 } })).to.deep.equal({ latitude: 1, longitude: 2 });
    for (const body of [{}, { vehicleLocation: {} }, { vehicleLocation: { latitude: 'x', longitude: '2' } }, { vehicleLocation: { latitude: '91', longitude: '2' } }, null]) {
      expect(() => mapFordConnectV1Location(body), JSON.stringify(body)).to.throw(ApiError).with.property('kind', 'bad-response');
    }
  });

  it('reads compass points in every spelling', () => {
    expect(['North', 'NorthEast', 'EAST', 'south_east', 'S', 'SouthWest', 'West', 'NW'].map(compassDegrees)).to.deep.equal([0, 45, 90, 135, 180, 225, 270, 315]);
    expect(compassDegrees('Up')).to.equal(undefined);
  });
});

describe('lib/api/status: FordConnect Query telemetry', () => {
  const T = '2026-11-25T08:11:31Z';
  const m = (value: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ updateTime: T, value, ...extra });
  const telemetry = {
    updateTime: '2026-11-25T08:12:00Z',
    vehicleId: '1f2e3d4c-0000-4000-8000-000000000001',
    vin: '1FMCU9J98MUA12345',
    metrics: {
      doorLockStatus: [m('LOCKED', { vehicleDoor: 'ALL_DOORS' }), m('UNLOCKED', { vehicleDoor: 'FRONT_LEFT' })],
      doorStatus: [m('AJAR', { vehicleDoor: 'FRONT_LEFT' }), m('CLOSED', { vehicleDoor: 'UNSPECIFIED_FRONT', vehicleOccupantRole: 'PASSENGER' }), m('CLOSED', { vehicleDoor: 'TAILGATE' })],
      hoodStatus: m('CLOSED'),
      windowStatus: [m({ doubleRange: { lowerBound: 0, upperBound: 0 } }, { vehicleWindow: 'FRONT_LEFT' }), m({ doubleRange: { lowerBound: 10, upperBound: 20 } }, { vehicleWindow: 'REAR_RIGHT' })],
      tirePressure: [m(240, { vehicleWheel: 'FRONT_LEFT' }), m(238.5, { vehicleWheel: 'FRONT_RIGHT' }), m(190, { vehicleWheel: 'REAR_LEFT' })],
      tirePressureStatus: [m('NORMAL', { vehicleWheel: 'FRONT_LEFT' }), m('LOW', { vehicleWheel: 'REAR_LEFT' })],
      fuelLevel: m(101.2),
      fuelRange: m(410),
      xevBatteryStateOfCharge: m(77),
      xevBatteryRange: m(48),
      xevPlugChargerStatus: m('CONNECTED'),
      xevBatteryChargeDisplayStatus: m('IN_PROGRESS', { xevChargerPowerType: 'AC' }),
      xevBatteryTimeToFullCharge: m(95),
      odometer: m(18452.4),
      ignitionStatus: m('ACCESSORY'),
      remoteStartCountdownTimer: m(540),
      alarmStatus: m('ARMED'),
      batteryStateOfCharge: m(88, { vehicleBattery: 'PRIMARY_BATTERY' }),
      batteryVoltage: m(12.6),
      position: m({ location: { lat: 51.5007, lon: -0.1246, alt: 20 } }),
      heading: m({ heading: 92.5 }),
      speed: m(31),
      compassDirection: m('EAST'),
    },
  };

  it('maps telemetry into the same status object', () => {
    expect(mapFconQueryStatus(telemetry, ID)).to.deep.equal({
      vehicleId: ID,
      lock: 'locked',
      alarm: 'armed',
      fuel: { level: 100, rangeKm: 410, updated: '2026-11-25T08:11:31.000Z' },
      battery: { level: 77, rangeKm: 48, updated: '2026-11-25T08:11:31.000Z' },
      odometerKm: 18452.4,
      ignition: 'accessory',
      engine: { running: true, remainingMinutes: 9 },
      doors: { frontLeft: 'open', passenger: 'closed', tailgate: 'closed', hood: 'closed' },
      windows: { frontLeft: 'closed', rearRight: 'open' },
      tyres: { warning: true, pressuresKpa: { frontLeft: 240, frontRight: 238.5, rearLeft: 190 }, states: { frontLeft: 'normal', rearLeft: 'low' } },
      charging: { status: 'charging', plugged: true, fordStatus: 'IN_PROGRESS', power: 'ac', minutesToFull: 95, updated: '2026-11-25T08:11:31.000Z' },
      battery12V: { level: 88, voltage: 12.6 },
      lastUpdated: '2026-11-25T08:12:00.000Z',
    } satisfies VehicleStatus);
  });

  it('reads the lock from every door when ALL_DOORS is missing', () => {
    const lock = (values: string[]): string => mapFconQueryStatus({ metrics: { doorLockStatus: values.map((v, i) => m(v, { vehicleDoor: ['FRONT_LEFT', 'FRONT_RIGHT'][i] })) } }, ID).lock;
    expect(lock(['LOCKED', 'DOUBLE_LOCKED'])).to.equal('locked');
    expect(lock(['LOCKED', 'UNLOCKED'])).to.equal('unlocked');
    expect(lock(['LOCKED', 'UNKNOWN'])).to.equal('unknown');
    expect(lock([])).to.equal('unknown');
  });

  it('keeps absent metrics absent and refuses a body without metrics', () => {
    expect(mapFconQueryStatus({ metrics: {} }, ID)).to.deep.equal({ vehicleId: ID, lock: 'unknown' });
    expect(mapFconQueryStatus({ metrics: { fuelLevel: m('lots'), odometer: { value: -1 } } }, ID)).to.deep.equal({ vehicleId: ID, lock: 'unknown' });
    expect(() => mapFconQueryStatus({ vin: 'x' }, ID)).to.throw(ApiError).with.property('kind', 'bad-response');
  });

  it('maps the position, and refuses telemetry without one as not-found', () => {
    expect(mapFconQueryLocation(telemetry)).to.deep.equal({ latitude: 51.5007, longitude: -0.1246, heading: 92.5, speed: 31, time: '2026-11-25T08:11:31.000Z' });
    expect(() => mapFconQueryLocation({ metrics: { fuelLevel: m(3) } })).to.throw(ApiError).with.property('kind', 'not-found');
  });

  it('keeps the VIN and the location metrics out of a status raw body, and the rest out of a location raw body', () => {
    const forStatus = JSON.stringify(telemetryForStatus(telemetry));
    expect(forStatus).to.not.include('1FMCU9J98MUA12345');
    expect(forStatus).to.not.include('51.5007');
    expect(forStatus).to.include('doorLockStatus');
    const forLocation = telemetryForLocation(telemetry) as { metrics: Record<string, unknown> };
    expect(Object.keys(forLocation.metrics).sort()).to.deep.equal(['compassDirection', 'heading', 'position', 'speed']);
    expect(JSON.stringify(forLocation)).to.not.include('1FMCU9J98MUA12345');
  });
});

describe('lib/api/status: rounding and distance', () => {
  const here = { latitude: 42.3157, longitude: -83.2121, speed: 12, time: '2026-11-25T08:11:31.000Z' };

  it('measures great-circle distances', () => {
    expect(distanceMetres(here, here)).to.equal(0);
    // One degree of latitude is about 111.2 km.
    expect(distanceMetres({ latitude: 0, longitude: 0 }, { latitude: 1, longitude: 0 })).to.be.closeTo(111_195, 5);
    // London to Paris, about 343.5 km.
    expect(distanceMetres({ latitude: 51.5074, longitude: -0.1278 }, { latitude: 48.8566, longitude: 2.3522 })).to.be.closeTo(343_500, 1_000);
  });

  it('keeps the exact position for 0 (and for nonsense)', () => {
    expect(roundPosition(here, 0)).to.deep.equal(here);
    expect(roundPosition(here, -5)).to.deep.equal(here);
    expect(roundPosition(here, NaN)).to.deep.equal(here);
  });

  it('snaps to a grid of about the given size and keeps the other fields', () => {
    for (const metres of [10, 100, 1000]) {
      const rounded = roundPosition(here, metres);
      expect(rounded.speed).to.equal(12);
      expect(rounded.time).to.equal(here.time);
      // Never further than half a cell diagonal from the truth.
      expect(distanceMetres(here, rounded), `${metres} m`).to.be.at.most((metres * Math.SQRT2) / 2 + 0.5);
    }
  });

  it('gives one answer for every position in one cell, and a different one a cell away', () => {
    const a = roundPosition({ latitude: 42.31571, longitude: -83.21211 }, 100);
    const b = roundPosition({ latitude: 42.31579, longitude: -83.21218 }, 100);
    expect(a).to.deep.equal(b);
    const far = roundPosition({ latitude: 42.3157 + 0.0018, longitude: -83.2121 }, 100);
    expect(distanceMetres(a, far)).to.be.closeTo(200, 1);
  });

  it('stays valid near the poles and the date line', () => {
    const north = roundPosition({ latitude: 89.99999, longitude: 179.9999 }, 1000);
    expect(north.latitude).to.be.at.most(90);
    expect(north.longitude).to.be.within(-180, 180);
    const dateLine = roundPosition({ latitude: 0, longitude: 179.9999 }, 1000);
    expect(dateLine.longitude).to.be.within(-180, 180);
  });
});

describe('lib/api/status: changedFields', () => {
  const base = mapFordConnectV1Status(v1Body());

  it('lists nothing when only timestamps moved', () => {
    const later = mapFordConnectV1Status(
      v1Body({ vehicle: { lastUpdated: '11-25-2026 09:00:00' }, details: { batteryChargeLevel: { value: 54, distanceToEmpty: 252, timestamp: '2026-11-25T09:00:00Z' } } }),
    );
    expect(later.lastUpdated).to.not.equal(base.lastUpdated);
    expect(changedFields(base, later)).to.deep.equal([]);
  });

  it('lists the dotted paths of changed leaves, sorted', () => {
    const next: VehicleStatus = { ...base, lock: 'locked', battery: { ...base.battery!, level: 55 }, doors: { ...base.doors, driver: 'closed' } };
    expect(changedFields(base, next)).to.deep.equal(['battery.level', 'doors.driver', 'lock']);
  });

  it('lists each leaf of a field that appears or disappears', () => {
    const { engine: _engine, ...withoutEngine } = base;
    expect(changedFields(withoutEngine, base)).to.deep.equal(['engine.remainingMinutes', 'engine.running']);
    expect(changedFields(base, withoutEngine)).to.deep.equal(['engine.remainingMinutes', 'engine.running']);
  });

  it('lists everything for a first reading, and ignores the time of a location', () => {
    expect(changedFields(undefined, { lock: 'locked', fuel: { level: 3, updated: 'x' } })).to.deep.equal(['fuel.level', 'lock']);
    expect(changedFields({ latitude: 1, longitude: 2, time: 'a' }, { latitude: 1, longitude: 2, time: 'b' })).to.deep.equal([]);
    expect(changedFields({ a: [1, 2] }, { a: [1, 3] })).to.deep.equal(['a']);
    expect(changedFields({ a: 1 }, { a: { b: 1 } })).to.deep.equal(['a', 'a.b']);
  });
});
