import { expect } from 'chai';
import { ApiError } from '../../src/lib/api/errors';
import { mapFconQueryLocation, mapFconQueryStatus, telemetryForLocation, telemetryForStatus } from '../../src/lib/api/fcon-query-status';
import {
  changedFields,
  compassDegrees,
  distanceMetres,
  headingDegrees,
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
      engine: { running: true, remainingMinutes: 12, updated: '2026-11-25T08:11:31.000Z' },
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
    expect(status.engine).to.deep.equal({ running: false, updated: '2026-11-25T08:11:31.000Z' });
    expect(mapFordConnectV1Status(v1Body({ details: { batteryChargeLevel: { value: -3 } } })).battery).to.deep.equal({ level: 0 });
    // v1 gives the tyre warning without a time: no `updated` is made up.
    expect(status.tyres).to.deep.equal({ warning: false });
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

  it('refuses a vehicle whose fields are all of another type, rather than give an empty status that looks healthy', () => {
    const wrong = { vehicle: { vehicleDetails: { odometer: 'far', fuelLevel: { value: 'lots' } }, vehicleStatus: { lockStatus: { value: 7 }, ignitionStatus: { value: true } } } };
    expect(() => mapFordConnectV1Status(wrong, ID)).to.throw(ApiError, 'the vehicle information has no field of the type Ford documents');
    // Not reported (null) is not of a wrong type: that stays an empty status.
    expect(mapFordConnectV1Status({ vehicle: { vehicleDetails: { odometer: null }, vehicleStatus: { lockStatus: null, alarm: { value: null } } } }, ID)).to.deep.equal({ vehicleId: ID, lock: 'unknown' });
    // One readable field is enough.
    expect(mapFordConnectV1Status({ vehicle: { vehicleDetails: { odometer: 1200 }, vehicleStatus: { lockStatus: { value: 7 } } } }, ID)).to.include({ odometerKm: 1200, lock: 'unknown' });
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
      engine: { running: true, remainingMinutes: 9, updated: '2026-11-25T08:11:31.000Z' },
      doors: { frontLeft: 'open', passenger: 'closed', tailgate: 'closed', hood: 'closed' },
      windows: { frontLeft: 'closed', rearRight: 'open' },
      tyres: { warning: true, pressuresKpa: { frontLeft: 240, frontRight: 238.5, rearLeft: 190 }, states: { frontLeft: 'normal', rearLeft: 'low' }, updated: '2026-11-25T08:11:31.000Z' },
      charging: { status: 'charging', plugged: true, fordStatus: 'IN_PROGRESS', power: 'ac', minutesToFull: 95, updated: '2026-11-25T08:11:31.000Z' },
      battery12V: { level: 88, voltage: 12.6, updated: '2026-11-25T08:11:31.000Z' },
      lastUpdated: '2026-11-25T08:12:00.000Z',
    } satisfies VehicleStatus);
  });

  it('names rear doors and windows by side (UNSPECIFIED_REAR), the driver side as the left', () => {
    // An F-150 as Ford reports it: rear ones share the PASSENGER role, only vehicleSide tells them apart.
    const door = (value: string, vehicleDoor: string, vehicleOccupantRole: string, vehicleSide: string) => m(value, { vehicleDoor, vehicleOccupantRole, vehicleSide });
    const win = (open: boolean, vehicleWindow: string, vehicleOccupantRole: string, vehicleSide: string) =>
      m({ doubleRange: { lowerBound: 0, upperBound: open ? 40 : 0 } }, { vehicleWindow, vehicleOccupantRole, vehicleSide });
    const status = mapFconQueryStatus(
      {
        metrics: {
          doorStatus: [
            door('CLOSED', 'UNSPECIFIED_FRONT', 'DRIVER', 'DRIVER'),
            door('CLOSED', 'UNSPECIFIED_FRONT', 'PASSENGER', 'PASSENGER'),
            door('AJAR', 'UNSPECIFIED_REAR', 'PASSENGER', 'DRIVER'),
            door('CLOSED', 'UNSPECIFIED_REAR', 'PASSENGER', 'PASSENGER'),
            door('CLOSED', 'TAILGATE', 'UNKNOWN', 'UNKNOWN'),
            door('CLOSED', 'FRUNK', 'UNKNOWN', 'UNKNOWN'),
          ],
          windowStatus: [
            win(false, 'UNSPECIFIED_FRONT', 'DRIVER', 'DRIVER'),
            win(true, 'UNSPECIFIED_FRONT', 'PASSENGER', 'PASSENGER'),
            win(false, 'UNSPECIFIED_REAR', 'PASSENGER', 'DRIVER'),
            win(true, 'UNSPECIFIED_REAR', 'PASSENGER', 'PASSENGER'),
          ],
        },
      },
      ID,
    );
    expect(status.doors).to.deep.equal({ driver: 'closed', passenger: 'closed', rearLeft: 'open', rearRight: 'closed', tailgate: 'closed', frunk: 'closed' });
    expect(status.windows).to.deep.equal({ driver: 'closed', passenger: 'open', rearLeft: 'closed', rearRight: 'open' });

    // LEFT / RIGHT sides read too; positional names stay as they were; a rear one without a side is not guessed.
    const other = mapFconQueryStatus(
      {
        metrics: {
          doorStatus: [
            m('AJAR', { vehicleDoor: 'UNSPECIFIED_REAR', vehicleSide: 'RIGHT' }),
            m('CLOSED', { vehicleDoor: 'UNSPECIFIED_FRONT', vehicleSide: 'LEFT' }),
            m('AJAR', { vehicleDoor: 'REAR_LEFT', vehicleOccupantRole: 'PASSENGER', vehicleSide: 'DRIVER' }),
            m('AJAR', { vehicleDoor: 'UNSPECIFIED_REAR', vehicleOccupantRole: 'PASSENGER' }),
            m('AJAR', { vehicleDoor: 'UNSPECIFIED_DOOR' }),
          ],
          windowStatus: [m({ doubleRange: { lowerBound: 0, upperBound: 0 } }, { vehicleWindow: 'UNSPECIFIED_REAR', vehicleSide: 'LEFT' })],
        },
      },
      ID,
    );
    expect(other.doors).to.deep.equal({ rearRight: 'open', frontLeft: 'closed', rearLeft: 'open' });
    expect(other.windows).to.deep.equal({ rearLeft: 'closed' });
  });

  it("gives tyres, the 12 V battery and the engine each its own metric's age", () => {
    const status = mapFconQueryStatus(
      {
        updateTime: '2026-11-25T08:12:00Z',
        metrics: {
          odometer: m(18452.4),
          // Pressures weeks old, verdicts a little newer: the group is as old as its newest part.
          tirePressure: [
            { updateTime: '2026-11-02T10:00:00Z', value: 240, vehicleWheel: 'FRONT_LEFT' },
            { updateTime: '2026-11-03T10:00:00Z', value: 241, vehicleWheel: 'FRONT_RIGHT' },
          ],
          tirePressureStatus: [{ updateTime: '2026-11-04T10:00:00Z', value: 'NORMAL', vehicleWheel: 'FRONT_LEFT' }],
          batteryStateOfCharge: { updateTime: '2026-11-20T06:00:00Z', value: 91, vehicleBattery: 'PRIMARY_BATTERY' },
          batteryVoltage: { updateTime: '2026-11-21T06:00:00Z', value: 12.58, vehicleBattery: 'PRIMARY_BATTERY' },
          remoteStartCountdownTimer: { updateTime: '2026-11-24T07:00:00Z', value: 0 },
          remoteStartDeviceStatus: { updateTime: '2026-11-24T07:30:00Z', value: 'SHUTDOWN' },
        },
      },
      ID,
    );
    expect(status.tyres).to.deep.equal({ warning: false, pressuresKpa: { frontLeft: 240, frontRight: 241 }, states: { frontLeft: 'normal' }, updated: '2026-11-04T10:00:00.000Z' });
    expect(status.battery12V).to.deep.equal({ level: 91, voltage: 12.58, updated: '2026-11-21T06:00:00.000Z' });
    expect(status.engine).to.deep.equal({ running: false, updated: '2026-11-24T07:30:00.000Z' });
    expect(status.lastUpdated).to.equal('2026-11-25T08:12:00.000Z');

    // A reading that cannot be used lends the group no time; without a time there is no `updated`.
    const partial = mapFconQueryStatus(
      {
        metrics: {
          batteryStateOfCharge: { updateTime: '2026-11-22T06:00:00Z', value: 'full' },
          batteryVoltage: { updateTime: '2026-11-21T06:00:00Z', value: 12.4 },
          tirePressure: [{ updateTime: '2026-11-22T06:00:00Z', value: -1, vehicleWheel: 'FRONT_LEFT' }, { value: 230, vehicleWheel: 'REAR_LEFT' }],
        },
      },
      ID,
    );
    expect(partial.battery12V).to.deep.equal({ voltage: 12.4, updated: '2026-11-21T06:00:00.000Z' });
    expect(partial.tyres).to.deep.equal({ pressuresKpa: { rearLeft: 230 } });
    // Nothing usable: no group at all, not an age alone.
    expect(mapFconQueryStatus({ metrics: { batteryVoltage: { updateTime: T, value: -2 }, tirePressureStatus: [m('BOGUS_NOT_A_WHEEL')] } }, ID)).to.not.have.any.keys('battery12V', 'tyres');
  });

  it("takes the engine type and nickname from the garage (telemetry has neither)", () => {
    const garage = { vin: '1FMCU9J98MUA12345', nickName: 'Family Escape', engineType: 'PHEV' };
    const status = mapFconQueryStatus(telemetry, ID, garage);
    expect(status).to.include({ name: 'Family Escape', engineType: 'PHEV' });
    expect(status.charging?.status).to.equal('charging');
    // Ford's older EV reads as BEV; a hybrid that does not plug in has no charging even with a traction battery.
    expect(mapFconQueryStatus(telemetry, ID, { engineType: 'EV' }).engineType).to.equal('BEV');
    const hybrid = mapFconQueryStatus(telemetry, ID, { engineType: 'HEV' });
    expect(hybrid.charging).to.equal(undefined);
    expect(hybrid.battery?.level).to.equal(77);
    // No garage, or one of the wrong shape: both absent.
    for (const g of [undefined, null, 'BEV', { engineType: 7, nickName: '  ' }]) expect(mapFconQueryStatus(telemetry, ID, g)).to.not.have.any.keys('name', 'engineType');
  });

  it('reads a sounding panic alarm as triggered, and the tyre system status into the warning', () => {
    const alarm = (metrics: Record<string, unknown>): unknown => mapFconQueryStatus({ metrics }, ID).alarm;
    expect(alarm({ alarmStatus: m('ARMED'), panicAlarmStatus: m('ACTIVE') })).to.equal('triggered');
    expect(alarm({ alarmStatus: m('ARMED'), panicAlarmStatus: m('INACTIVE') })).to.equal('armed');
    expect(alarm({ panicAlarmStatus: m('INACTIVE') })).to.equal(undefined);
    const tyres = (list: string[]): unknown => mapFconQueryStatus({ metrics: { tirePressureSystemStatus: list.map((v) => m(v, { vehicleWheel: 'SYSTEM' })) } }, ID).tyres;
    expect(tyres(['NORMAL_OPERATION'])).to.deep.equal({ warning: false, updated: '2026-11-25T08:11:31.000Z' });
    expect(tyres(['NORMAL_OPERATION', 'SENSOR_FAULT'])).to.deep.equal({ warning: true, updated: '2026-11-25T08:11:31.000Z' });
    expect(tyres(['UNKNOWN'])).to.equal(undefined);
  });

  it('takes the charging time from the plug when the charge display is missing', () => {
    const status = mapFconQueryStatus({ metrics: { xevBatteryStateOfCharge: m(50), xevPlugChargerStatus: { updateTime: '2026-11-25T07:00:00Z', value: 'DISCONNECTED' } } }, ID);
    expect(status.charging).to.deep.equal({ status: 'not-plugged', plugged: false, updated: '2026-11-25T07:00:00.000Z' });
  });

  it('reads the lock from every door when ALL_DOORS is missing', () => {
    const lock = (values: string[]): string => mapFconQueryStatus({ metrics: { doorLockStatus: values.map((v, i) => m(v, { vehicleDoor: ['FRONT_LEFT', 'FRONT_RIGHT'][i] })) } }, ID).lock;
    expect(lock(['LOCKED', 'DOUBLE_LOCKED'])).to.equal('locked');
    expect(lock(['LOCKED', 'UNLOCKED'])).to.equal('unlocked');
    expect(lock(['LOCKED', 'UNKNOWN'])).to.equal('unknown');
    expect(lock([])).to.equal('unknown');
    // Doors that cannot report a lock say nothing about it; ALL_DOORS that does not know leaves it to the doors.
    const status = (items: Record<string, unknown>[]): string => mapFconQueryStatus({ metrics: { doorLockStatus: items } }, ID).lock;
    const mechanical = m('UNKNOWN', { vehicleDoor: 'UNSPECIFIED_REAR', vehicleSide: 'DRIVER', tags: { DOOR_LATCH_TYPE: 'MECHANICAL' } });
    expect(status([m('LOCKED', { vehicleDoor: 'UNSPECIFIED_FRONT', vehicleOccupantRole: 'DRIVER' }), mechanical, m('NO_LOCKABLE_DEVICE', { vehicleDoor: 'FRUNK' })])).to.equal('locked');
    expect(status([m('UNKNOWN', { vehicleDoor: 'ALL_DOORS' }), m('UNLOCKED', { vehicleDoor: 'FRONT_LEFT' })])).to.equal('unlocked');
    expect(status([m('UNKNOWN', { vehicleDoor: 'ALL_DOORS' }), mechanical])).to.equal('unknown');
    expect(status([m('DOUBLE_LOCKED', { vehicleDoor: 'ALL_DOORS' }), m('UNLOCKED', { vehicleDoor: 'FRONT_LEFT' })])).to.equal('locked');
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

  it('gives the heading to 0.1° without float noise', () => {
    const heading = (h: unknown): unknown => mapFconQueryLocation({ metrics: { position: m({ location: { lat: 1, lon: 2 } }), heading: m({ heading: h }) } }).heading;
    // 0.9 came out as 0.8999999999999773 from the wrap-around arithmetic.
    expect([0.9, 182.6, 84.8, 0, 92.5].map(heading)).to.deep.equal([0.9, 182.6, 84.8, 0, 92.5]);
    expect([360.9, -0.9, 720, 359.96, -0.04, 12.345].map(headingDegrees)).to.deep.equal([0.9, 359.1, 0, 0, 0, 12.3]);
    expect(headingDegrees('north')).to.equal(undefined);
    // Without a heading the compass direction stands in.
    expect(mapFconQueryLocation({ metrics: { position: m({ location: { lat: 1, lon: 2 } }), compassDirection: m('SOUTHWEST') } }).heading).to.equal(225);
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
