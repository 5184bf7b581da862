import { expect } from 'chai';

/**
 * The parts of Ford's "FCON Query service" 1.0.0 schemas the simulator's
 * bodies use, written out by hand (no copy of Ford's document lives in the
 * repository): for each metric, the qualifiers it may carry and the enum its
 * value must be in. Every schema there is closed (additionalProperties:
 * false), so an unknown key is a failure too.
 */

const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const VIN = /^[0-9A-Z]{11,17}$/;

const METRIC_BASE = ['updateTime', 'oemCorrelationId', 'tags', 'value'];

const DOOR_ENUM = ['UNKNOWN_DOOR', 'FRONT_LEFT', 'FRONT_RIGHT', 'REAR_LEFT', 'REAR_RIGHT', 'SLIDING_LEFT', 'SLIDING_RIGHT', 'REAR_CARGO_LEFT', 'REAR_CARGO_RIGHT', 'TAILGATE', 'INNER_TAILGATE', 'UNSPECIFIED_DOOR', 'ALL_DOORS', 'UNSPECIFIED_FRONT', 'UNSPECIFIED_REAR', 'FRUNK', 'UNRECOGNIZED'];
const ROLE_ENUM = ['UNKNOWN', 'DRIVER', 'PASSENGER', 'UNRECOGNIZED'];
const WINDOW_ENUM = ['UNKNOWN_WINDOW', 'FRONT_LEFT', 'FRONT_RIGHT', 'REAR_LEFT', 'REAR_RIGHT', 'UNSPECIFIED_FRONT', 'UNSPECIFIED_REAR', 'UNRECOGNIZED'];
const WHEEL_ENUM = ['UNKNOWN_WHEEL', 'FRONT_LEFT', 'FRONT_RIGHT', 'REAR_LEFT', 'REAR_RIGHT', 'REAR_LEFT_INNER', 'REAR_LEFT_OUTER', 'REAR_RIGHT_INNER', 'REAR_RIGHT_OUTER', 'SYSTEM', 'UNRECOGNIZED'];
const BATTERY_ENUM = ['UNKNOWN_BATTERY', 'PRIMARY_BATTERY', 'ACCESSORY_BATTERY', 'BACKUP_BATTERY', 'UNRECOGNIZED'];

type ValueCheck = 'number' | readonly string[] | ((value: unknown, where: string) => void);

interface MetricShape {
  array?: boolean;
  /** Keys besides updateTime / oemCorrelationId / tags / value, with their enums (null: a number). */
  qualifiers?: Record<string, readonly string[] | null>;
  value: ValueCheck;
}

const doorQualifiers = { vehicleDoor: DOOR_ENUM, vehicleOccupantRole: ROLE_ENUM, vehicleSide: ROLE_ENUM };

export const METRIC_SHAPES: Record<string, MetricShape> = {
  doorLockStatus: { array: true, qualifiers: { ...doorQualifiers, determinationMethod: ['UNKNOWN', 'ACTUAL', 'INFERRED', 'UNRECOGNIZED'] }, value: ['UNKNOWN', 'LOCKED', 'UNLOCKED', 'DOUBLE_LOCKED', 'NO_LOCKABLE_DEVICE', 'UNRECOGNIZED'] },
  doorStatus: { array: true, qualifiers: doorQualifiers, value: ['UNKNOWN', 'CLOSED', 'AJAR', 'UNRECOGNIZED'] },
  hoodStatus: { value: ['UNKNOWN', 'CLOSED', 'AJAR', 'UNRECOGNIZED'] },
  windowStatus: {
    array: true,
    qualifiers: { vehicleWindow: WINDOW_ENUM, vehicleOccupantRole: ROLE_ENUM, vehicleSide: ROLE_ENUM },
    value: (v, where) => {
      // Range: { doubleRange?: { lowerBound, upperBound }, intRange?: … }
      expect(v, where).to.be.an('object');
      const range = v as Record<string, Record<string, unknown>>;
      expect(Object.keys(range), where).to.satisfy((keys: string[]) => keys.every((k) => k === 'doubleRange' || k === 'intRange'));
      for (const r of Object.values(range)) {
        expect(Object.keys(r), where).to.satisfy((keys: string[]) => keys.every((k) => k === 'lowerBound' || k === 'upperBound'));
        expect(r.lowerBound, where).to.be.a('number');
        expect(r.upperBound, where).to.be.a('number');
      }
    },
  },
  tirePressure: { array: true, qualifiers: { vehicleWheel: WHEEL_ENUM, wheelPlacardFront: null, wheelPlacardRear: null }, value: 'number' },
  tirePressureStatus: { array: true, qualifiers: { vehicleWheel: WHEEL_ENUM }, value: ['UNKNOWN', 'NORMAL', 'LOW', 'ALERT', 'UNSUPPORTED', 'UNRECOGNIZED'] },
  odometer: { value: 'number' },
  ignitionStatus: { value: ['UNKNOWN', 'OFF', 'ACCESSORY', 'ON', 'UNRECOGNIZED'] },
  alarmStatus: { value: ['UNKNOWN', 'DISARMED', 'PREARMED', 'ARMED', 'ACTIVATED', 'UNRECOGNIZED'] },
  panicAlarmStatus: { value: ['UNDEFINED', 'ACTIVE', 'INACTIVE', 'UNRECOGNIZED'] },
  remoteStartCountdownTimer: { value: 'number' },
  remoteStartDeviceStatus: { value: ['UNKNOWN', 'ACKNOWLEDGE', 'STARTING', 'RUNNING', 'SHUTDOWN', 'UNRECOGNIZED'] },
  batteryStateOfCharge: { qualifiers: { vehicleBattery: BATTERY_ENUM }, value: 'number' },
  batteryVoltage: { qualifiers: { vehicleBattery: BATTERY_ENUM }, value: 'number' },
  fuelLevel: { value: 'number' },
  fuelRange: { value: 'number' },
  xevBatteryStateOfCharge: { value: 'number' },
  xevBatteryRange: { value: 'number' },
  xevPlugChargerStatus: { value: ['UNKNOWN', 'DISCONNECTED', 'CONNECTED', 'UNRECOGNIZED'] },
  xevBatteryChargeDisplayStatus: {
    qualifiers: {
      xevChargerPowerType: ['UNKNOWN', 'AC', 'DC', 'WIRELESS', 'UNRECOGNIZED'],
      xevBatteryType: ['UNKNOWN', 'HIGH_VOLTAGE', 'LOW_VOLTAGE', 'UNRECOGNIZED'],
      xevChargeStatusOrigin: ['UNKNOWN', 'STATION', 'IN_VEHICLE', 'REMOTE', 'UNRECOGNIZED'],
      xevVehicleConditioningType: ['UNKNOWN', 'CABIN_CONDITIONING', 'BATTERY_CONDITIONING', 'UNRECOGNIZED'],
      xevChargeOriginatorType: ['UNKNOWN', 'USER', 'GRID', 'UNRECOGNIZED'],
    },
    value: ['UNKNOWN', 'NOT_PLUGGED_IN', 'FAULT', 'STATION_NOT_COMPATIBLE', 'STATION_NOT_DETECTED', 'IN_PROGRESS', 'SCHEDULED', 'PAUSED', 'STOPPED', 'COMPLETED', 'DISCHARGING', 'NOT_READY', 'UNRECOGNIZED'],
  },
  xevBatteryTimeToFullCharge: { value: 'number' },
  xevChargeStationPowerType: { value: ['UNKNOWN', 'AC_BASIC', 'AC_SMART', 'DC_FAST', 'WIRELESS', 'UNRECOGNIZED'] },
  position: {
    qualifiers: { sampleRate: ['UNKNOWN', 'UP_TO_1_SECOND', 'UP_TO_5_SECONDS', 'UNRECOGNIZED'], gpsModuleTimestamp: [] },
    value: (v, where) => {
      // PositionValue: location { lat, lon, alt }, gpsDimension, gpsCoordinateMethod, gpsClock, pdop, hdop, vdop, gdop
      const p = v as Record<string, unknown>;
      expect(Object.keys(p), where).to.satisfy((keys: string[]) => keys.every((k) => ['location', 'gpsDimension', 'gpsCoordinateMethod', 'gpsClock', 'pdop', 'hdop', 'vdop', 'gdop'].includes(k)));
      const loc = p.location as Record<string, unknown>;
      expect(Object.keys(loc), where).to.satisfy((keys: string[]) => keys.every((k) => ['lat', 'lon', 'alt'].includes(k)));
      for (const k of Object.keys(loc)) expect(loc[k], `${where}.location.${k}`).to.be.a('number');
      if (p.gpsDimension !== undefined) expect(['UNKNOWN', 'NONE', 'DIM_2D', 'DIM_3D', 'UNRECOGNIZED'], where).to.include(p.gpsDimension);
      if (p.gpsCoordinateMethod !== undefined) expect(['UNKNOWN', 'ACTUAL', 'INFERRED', 'UNRECOGNIZED'], where).to.include(p.gpsCoordinateMethod);
    },
  },
  heading: {
    qualifiers: { sampleRate: ['UNKNOWN', 'UP_TO_1_SECOND', 'UP_TO_5_SECONDS', 'UNRECOGNIZED'], gpsModuleTimestamp: [] },
    value: (v, where) => {
      const h = v as Record<string, unknown>;
      expect(Object.keys(h), where).to.satisfy((keys: string[]) => keys.every((k) => ['heading', 'uncertainty', 'detectionType'].includes(k)));
      expect(h.heading, where).to.be.a('number');
      if (h.detectionType !== undefined) expect(['UNKNOWN', 'HEADING_RAW_GNSS', 'HEADING_MAGNETIC_SENSOR', 'HEADING_MULTI_SENSOR_FUSION', 'HEADING_BY_MAP', 'UNRECOGNIZED'], where).to.include(h.detectionType);
    },
  },
  speed: { qualifiers: { sampleRate: ['UNKNOWN', 'UP_TO_1_SECOND', 'UP_TO_5_SECONDS', 'UNRECOGNIZED'], gpsModuleTimestamp: [] }, value: 'number' },
  compassDirection: {
    qualifiers: { sampleRate: ['UNKNOWN', 'UP_TO_1_SECOND', 'UP_TO_5_SECONDS', 'UNRECOGNIZED'], gpsModuleTimestamp: [] },
    value: ['UNKNOWN', 'NORTH', 'NORTHEAST', 'EAST', 'SOUTHEAST', 'SOUTH', 'SOUTHWEST', 'WEST', 'NORTHWEST', 'UNRECOGNIZED'],
  },
};

function checkOne(item: Record<string, unknown>, shape: MetricShape, where: string): void {
  const allowed = [...METRIC_BASE, ...Object.keys(shape.qualifiers ?? {})];
  for (const key of Object.keys(item)) expect(allowed, `${where}: unexpected key ${key}`).to.include(key);
  expect(item.updateTime, `${where}.updateTime`).to.be.a('string').and.match(ISO_Z);
  expect(item, `${where}.value`).to.have.property('value');
  const check = shape.value;
  if (check === 'number') expect(item.value, `${where}.value`).to.be.a('number');
  else if (typeof check === 'function') check(item.value, `${where}.value`);
  else expect(check, `${where}.value ${String(item.value)}`).to.include(item.value);
  for (const [key, values] of Object.entries(shape.qualifiers ?? {})) {
    if (item[key] === undefined) continue;
    if (values === null) expect(item[key], `${where}.${key}`).to.be.a('number');
    else if (values.length === 0) expect(item[key], `${where}.${key}`).to.be.a('string').and.match(ISO_Z);
    else expect(values, `${where}.${key} ${String(item[key])}`).to.include(item[key]);
  }
}

/** Checks every metric of a TelemetryResponse's `metrics` against its schema; returns the names seen. */
export function assertMetrics(metrics: Record<string, unknown>): string[] {
  for (const [name, m] of Object.entries(metrics)) {
    const shape = METRIC_SHAPES[name];
    expect(shape, `a metric the simulator has no schema for: ${name}`).to.not.equal(undefined);
    if (shape.array) {
      expect(m, name).to.be.an('array').that.is.not.empty;
      (m as Record<string, unknown>[]).forEach((item, i) => checkOne(item, shape, `${name}[${i}]`));
    } else {
      expect(m, name).to.be.an('object');
      checkOne(m as Record<string, unknown>, shape, name);
    }
  }
  return Object.keys(metrics);
}

/** TelemetryResponse: updateTime, deviceId, vehicleId, vin, metrics (geofence keys unused). */
export function assertTelemetry(body: Record<string, unknown>): void {
  for (const key of Object.keys(body)) expect(['updateTime', 'deviceId', 'vehicleId', 'vin', 'metrics', 'geofenceEvents', 'geofenceState'], `telemetry key ${key}`).to.include(key);
  expect(body.updateTime).to.be.a('string').and.match(ISO_Z);
  expect(body.vehicleId).to.be.a('string').and.match(UUID);
  if (body.deviceId !== undefined) expect(body.deviceId).to.be.a('string').and.match(UUID);
  expect(body.vin).to.be.a('string').and.match(VIN);
  expect(body.metrics).to.be.an('object');
  assertMetrics(body.metrics as Record<string, unknown>);
}

/** GarageResponseDTO: every required field, its type and bounds; nothing else. */
export function assertGarage(body: Record<string, unknown>): void {
  const required = ['color', 'engineType', 'make', 'modelCode', 'modelName', 'modelYear', 'ngSdnManaged', 'tcuEnabled', 'vehicleAuthorizationIndicator', 'vehicleType', 'vin'];
  expect(body).to.include.keys(required);
  for (const key of Object.keys(body)) expect([...required, 'nickName'], `garage key ${key}`).to.include(key);
  expect(body.vin).to.be.a('string').and.match(VIN);
  for (const key of ['color', 'modelName', 'modelCode', 'vehicleType']) expect(body[key], key).to.be.a('string').with.length.within(1, 500);
  expect(body.modelYear).to.be.a('string').with.length.within(1, 4);
  expect(body.make).to.be.a('string').with.length.within(1, 10);
  expect(body.engineType).to.be.a('string').with.length.within(1, 10);
  if (body.nickName !== undefined) expect(body.nickName).to.be.a('string').with.length.at.most(500);
  for (const key of ['tcuEnabled', 'ngSdnManaged', 'vehicleAuthorizationIndicator']) expect([0, 1], key).to.include(body[key]);
}

/** Ford's error body as its examples spell it: `{ errorCode: <number>, errorMessage }`. */
export function assertQueryError(body: unknown, status: number, message?: string | RegExp): void {
  expect(body).to.have.keys(['errorCode', 'errorMessage']);
  const b = body as { errorCode: unknown; errorMessage: unknown };
  expect(b.errorCode).to.equal(status);
  expect(b.errorMessage).to.be.a('string');
  if (typeof message === 'string') expect(b.errorMessage).to.equal(message);
  else if (message) expect(b.errorMessage).to.match(message);
}
