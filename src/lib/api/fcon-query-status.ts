import { ApiError } from './errors';
import {
  alarmState,
  compassDegrees,
  headingDegrees,
  ignitionState,
  lockState,
  normaliseEngineType,
  openState,
  plugsIn,
  position,
  type ChargingStatus,
  type DoorName,
  type EnergyLevel,
  type LockState,
  type OpenState,
  type TyreState,
  type VehicleLocation,
  type VehicleStatus,
  type WheelName,
  type WindowName,
} from './status';
import { clampPercent, newest, nonEmpty, nonNegative, normaliseTimestamp, num, obj, put, str, upper, type Obj } from './wire-values';

/**
 * FordConnect Query's `/v1/telemetry` into the same {@link VehicleStatus} and
 * {@link VehicleLocation} as FordConnect v1. A metric is
 * `{ updateTime, value, … }`; multi-part metrics are arrays qualified by
 * `vehicleDoor`, `vehicleWheel`, `vehicleWindow` or `vehicleOccupantRole`.
 * Only the metrics the vehicle (and the app's data categories) provide are
 * present; each has its own time.
 */

/** Metrics that locate the vehicle: never part of a status, nor of its `msg.raw`. */
export const LOCATION_METRICS: readonly string[] = ['position', 'heading', 'speed', 'compassDirection', 'geofence', 'geofenceEvent', 'gpsData'];

function metrics(body: unknown): { body: Obj; metrics: Obj } {
  const b = obj(body);
  const m = obj(b?.metrics);
  if (!b || !m) throw new ApiError('bad-response', 'the telemetry answer has no metrics object');
  return { body: b, metrics: m };
}

function metric(m: Obj, name: string): Obj | undefined {
  return obj(m[name]);
}

function metricList(m: Obj, name: string): Obj[] {
  const v = m[name];
  return Array.isArray(v) ? v.map(obj).filter((x): x is Obj => x !== undefined) : [];
}

const POSITIONAL: Record<string, DoorName & WindowName & WheelName> = {
  FRONT_LEFT: 'frontLeft',
  FRONT_RIGHT: 'frontRight',
  REAR_LEFT: 'rearLeft',
  REAR_RIGHT: 'rearRight',
};

const DOORS: Record<string, DoorName> = {
  ...POSITIONAL,
  SLIDING_LEFT: 'slidingLeft',
  SLIDING_RIGHT: 'slidingRight',
  REAR_CARGO_LEFT: 'rearCargoLeft',
  REAR_CARGO_RIGHT: 'rearCargoRight',
  TAILGATE: 'tailgate',
  INNER_TAILGATE: 'innerTailgate',
  FRUNK: 'frunk',
};

const WHEELS: Record<string, WheelName> = {
  ...POSITIONAL,
  REAR_LEFT_INNER: 'rearLeftInner',
  REAR_LEFT_OUTER: 'rearLeftOuter',
  REAR_RIGHT_INNER: 'rearRightInner',
  REAR_RIGHT_OUTER: 'rearRightOuter',
};

/**
 * Doors and windows Ford names by side rather than position:
 * `UNSPECIFIED_FRONT` by occupant role (or side), kept as `driver` /
 * `passenger`; `UNSPECIFIED_REAR` by `vehicleSide` only (a rear seat's role is
 * PASSENGER on both sides, as real F-150 data shows). The driver's side is
 * taken as the left, as in left-hand-drive markets (North America, most of
 * Europe); Ford's schema spells sides DRIVER / PASSENGER, LEFT / RIGHT is
 * read too.
 */
function bySide(kind: string | undefined, item: Obj): 'driver' | 'passenger' | 'frontLeft' | 'frontRight' | 'rearLeft' | 'rearRight' | undefined {
  const side = upper(item.vehicleSide);
  if (kind === 'UNSPECIFIED_FRONT') {
    const role = upper(item.vehicleOccupantRole);
    const who = role === 'DRIVER' || role === 'PASSENGER' ? role : side;
    if (who === 'DRIVER') return 'driver';
    if (who === 'PASSENGER') return 'passenger';
    return side === 'LEFT' ? 'frontLeft' : side === 'RIGHT' ? 'frontRight' : undefined;
  }
  if (kind === 'UNSPECIFIED_REAR') {
    if (side === 'DRIVER' || side === 'LEFT') return 'rearLeft';
    if (side === 'PASSENGER' || side === 'RIGHT') return 'rearRight';
  }
  return undefined;
}

function doorName(item: Obj): DoorName | undefined {
  const door = upper(item.vehicleDoor);
  if (!door) return undefined;
  return DOORS[door] ?? bySide(door, item);
}

function windowName(item: Obj): WindowName | undefined {
  const w = upper(item.vehicleWindow);
  if (!w) return undefined;
  return POSITIONAL[w] ?? bySide(w, item);
}

function chargingStatus(v: string): ChargingStatus {
  switch (v) {
    case 'NOT_PLUGGED_IN':
    case 'STATION_NOT_DETECTED':
      return 'not-plugged';
    case 'IN_PROGRESS':
      return 'charging';
    case 'PAUSED':
    case 'STOPPED':
      return 'paused';
    case 'SCHEDULED':
      return 'scheduled';
    case 'COMPLETED':
      return 'complete';
    case 'NOT_READY':
      return 'not-ready';
    case 'FAULT':
    case 'STATION_NOT_COMPATIBLE':
      return 'fault';
    default:
      return 'unknown';
  }
}

function powerType(v: string | undefined): 'ac' | 'dc' | 'wireless' | undefined {
  if (!v) return undefined;
  if (v.startsWith('AC')) return 'ac';
  if (v.startsWith('DC')) return 'dc';
  if (v === 'WIRELESS') return 'wireless';
  return undefined;
}

function tyreState(v: string | undefined): TyreState | undefined {
  if (v === undefined) return undefined;
  if (v === 'NORMAL') return 'normal';
  if (v === 'LOW') return 'low';
  if (v === 'ALERT') return 'alert';
  return 'unknown';
}

/**
 * The doors' lock: `ALL_DOORS` when it says, else locked only when every
 * reporting door is. A door without a lock (`NO_LOCKABLE_DEVICE`) and a
 * mechanical latch that cannot tell (F-150 rear doors: `UNKNOWN`, tagged
 * `DOOR_LATCH_TYPE: MECHANICAL`) say nothing about the lock.
 */
function lockOf(items: Obj[]): LockState {
  const all = items.find((i) => upper(i.vehicleDoor) === 'ALL_DOORS');
  if (all && lockState(all.value) !== 'unknown') return lockState(all.value);
  const reporting = items.filter((i) => {
    if (i === all) return false;
    const v = upper(i.value);
    return v !== 'NO_LOCKABLE_DEVICE' && !(upper(obj(i.tags)?.DOOR_LATCH_TYPE) === 'MECHANICAL' && lockState(v) === 'unknown');
  });
  const states = reporting.map((i) => lockState(i.value));
  if (states.length === 0) return 'unknown';
  if (states.includes('unlocked')) return 'unlocked';
  return states.every((s) => s === 'locked') ? 'locked' : 'unknown';
}

/**
 * Maps a FordConnect Query telemetry body into a {@link VehicleStatus}.
 * `vehicleId` is the kit's id for the one vehicle of the authorization (the
 * body's VIN never enters the status). Telemetry carries no engine type nor
 * nickname: `garage` (the `/v1/garage` body, when read) gives them. A body
 * without `metrics` is an ApiError `bad-response`; every missing or
 * wrong-typed metric is absent.
 */
export function mapFconQueryStatus(body: unknown, vehicleId: string, garage?: unknown): VehicleStatus {
  const { body: b, metrics: m } = metrics(body);
  const g = obj(garage);
  const times: (string | undefined)[] = [];
  const at = (o: Obj | undefined): string | undefined => {
    const t = normaliseTimestamp(o?.updateTime);
    times.push(t);
    return t;
  };
  const value = (name: string): unknown => {
    const o = metric(m, name);
    at(o);
    return o?.value;
  };
  /** A metric's value as `read` takes it; when usable, its time goes into `group` (a group is as old as its newest part). */
  const part = <T>(name: string, group: (string | undefined)[], read: (v: unknown) => T | undefined): T | undefined => {
    const o = metric(m, name);
    const t = at(o);
    const v = read(o?.value);
    if (v !== undefined) group.push(t);
    return v;
  };

  const locks = metricList(m, 'doorLockStatus');
  locks.forEach(at);
  const status: VehicleStatus = { vehicleId, lock: lockOf(locks) };
  put(status, 'name', str(g?.nickName));
  const engineType = normaliseEngineType(g?.engineType ?? b.engineType);
  put(status, 'engineType', engineType);
  const alarm = alarmState(value('alarmStatus'));
  // A sounding panic alarm (the key fob's) is the alarm going off, whatever alarmStatus says.
  put(status, 'alarm', upper(value('panicAlarmStatus')) === 'ACTIVE' ? 'triggered' : alarm);

  const level = (levelName: string, rangeName: string): EnergyLevel | undefined => {
    const lv = metric(m, levelName);
    const n = num(lv?.value);
    if (n === undefined) return undefined;
    const out: EnergyLevel = { level: clampPercent(n) };
    put(out, 'rangeKm', nonNegative(value(rangeName)));
    put(out, 'updated', at(lv));
    return out;
  };
  const fuel = level('fuelLevel', 'fuelRange');
  const battery = level('xevBatteryStateOfCharge', 'xevBatteryRange');
  put(status, 'fuel', fuel);
  put(status, 'battery', battery);
  put(status, 'odometerKm', nonNegative(value('odometer')));
  put(status, 'ignition', ignitionState(value('ignitionStatus')));

  const engineTimes: (string | undefined)[] = [];
  const countdown = part('remoteStartCountdownTimer', engineTimes, nonNegative);
  const device = part('remoteStartDeviceStatus', engineTimes, upper);
  if (countdown !== undefined || device !== undefined) {
    const running = (countdown ?? 0) > 0 || device === 'RUNNING' || device === 'STARTING';
    // The countdown is in seconds (as the working clients read it); minutes are what the status promises.
    const engine: NonNullable<VehicleStatus['engine']> = running && countdown !== undefined && countdown > 0 ? { running, remainingMinutes: Math.ceil(countdown / 60) } : { running };
    put(engine, 'updated', newest(engineTimes));
    status.engine = engine;
  }

  const doors: Partial<Record<DoorName, OpenState>> = {};
  for (const d of metricList(m, 'doorStatus')) {
    at(d);
    const name = doorName(d);
    const state = openState(d.value);
    if (name && state) doors[name] = state;
  }
  const hood = openState(value('hoodStatus'));
  if (hood) doors.hood = hood;
  put(status, 'doors', nonEmpty(doors));

  const windows: Partial<Record<WindowName, OpenState>> = {};
  for (const w of metricList(m, 'windowStatus')) {
    at(w);
    const name = windowName(w);
    const range = obj(obj(w.value)?.doubleRange) ?? obj(obj(w.value)?.intRange);
    const lower = num(range?.lowerBound);
    const upperBound = num(range?.upperBound);
    if (!name || lower === undefined || upperBound === undefined) continue;
    windows[name] = lower === 0 && upperBound === 0 ? 'closed' : 'open';
  }
  put(status, 'windows', nonEmpty(windows));

  // Tyres report on their own slow schedule: their time is kept apart from the rest.
  const tyreTimes: (string | undefined)[] = [];
  const pressures: Partial<Record<WheelName, number>> = {};
  for (const t of metricList(m, 'tirePressure')) {
    const time = at(t);
    const wheel = WHEELS[upper(t.vehicleWheel) ?? ''];
    const kpa = nonNegative(t.value);
    if (wheel && kpa !== undefined) {
      pressures[wheel] = kpa;
      tyreTimes.push(time);
    }
  }
  const states: Partial<Record<WheelName, TyreState>> = {};
  let warning: boolean | undefined;
  const warn = (on: boolean): void => {
    if (on) warning = true;
    else if (warning === undefined) warning = false;
  };
  for (const t of metricList(m, 'tirePressureStatus')) {
    const time = at(t);
    const state = tyreState(upper(t.value));
    if (state === undefined) continue;
    tyreTimes.push(time);
    if (state === 'low' || state === 'alert') warn(true);
    else if (state === 'normal') warn(false);
    const wheel = WHEELS[upper(t.vehicleWheel) ?? ''];
    if (wheel) states[wheel] = state;
  }
  // The monitoring system itself: a fault or a low tyre it detected turns the warning on.
  for (const t of metricList(m, 'tirePressureSystemStatus')) {
    const time = at(t);
    const v = upper(t.value);
    if (v === 'LOW_TIRE_PRESSURE' || v === 'SYSTEM_FAULT' || v === 'SENSOR_FAULT') warn(true);
    else if (v === 'NORMAL_OPERATION') warn(false);
    else continue;
    tyreTimes.push(time);
  }
  const tyres: NonNullable<VehicleStatus['tyres']> = {};
  put(tyres, 'warning', warning);
  put(tyres, 'pressuresKpa', nonEmpty(pressures));
  put(tyres, 'states', nonEmpty(states));
  if (Object.keys(tyres).length > 0) put(tyres, 'updated', newest(tyreTimes));
  put(status, 'tyres', nonEmpty(tyres));

  if (plugsIn(engineType, battery)) {
    const display = metric(m, 'xevBatteryChargeDisplayStatus');
    const plugMetric = metric(m, 'xevPlugChargerStatus');
    const plugTime = at(plugMetric);
    const plug = upper(plugMetric?.value);
    const plugged = plug === 'CONNECTED' ? true : plug === 'DISCONNECTED' ? false : undefined;
    const fordStatus = upper(display?.value);
    if (fordStatus !== undefined || plugged !== undefined) {
      const charging: NonNullable<VehicleStatus['charging']> = { status: fordStatus ? chargingStatus(fordStatus) : plugged ? 'plugged' : 'not-plugged' };
      put(charging, 'plugged', plugged);
      put(charging, 'fordStatus', fordStatus);
      put(charging, 'power', powerType(upper(display?.xevChargerPowerType)) ?? powerType(upper(value('xevChargeStationPowerType'))));
      const toFull = nonNegative(value('xevBatteryTimeToFullCharge'));
      if (toFull !== undefined && charging.status === 'charging') charging.minutesToFull = toFull;
      put(charging, 'updated', at(display) ?? plugTime);
      status.charging = charging;
    }
  }

  // The 12 V battery reports on its own schedule too (often days behind).
  const battery12V: NonNullable<VehicleStatus['battery12V']> = {};
  const batteryTimes: (string | undefined)[] = [];
  const soc = part('batteryStateOfCharge', batteryTimes, num);
  put(battery12V, 'level', soc === undefined ? undefined : clampPercent(soc));
  put(battery12V, 'voltage', part('batteryVoltage', batteryTimes, nonNegative));
  if (Object.keys(battery12V).length > 0) put(battery12V, 'updated', newest(batteryTimes));
  put(status, 'battery12V', nonEmpty(battery12V));

  put(status, 'lastUpdated', normaliseTimestamp(b.updateTime) ?? newest(times));
  return status;
}

/**
 * The vehicle's position from a telemetry body. Without a `position` metric
 * (the vehicle has none yet, or the app lacks the location data category)
 * it is an ApiError `not-found`.
 */
export function mapFconQueryLocation(body: unknown): VehicleLocation {
  const { metrics: m } = metrics(body);
  const p = metric(m, 'position');
  const loc = obj(obj(p?.value)?.location);
  const pos = position(loc?.lat, loc?.lon);
  if (!pos) throw new ApiError('not-found', 'the telemetry has no position (has the app the location data category?)');
  const out: VehicleLocation = { ...pos };
  put(out, 'heading', headingDegrees(obj(metric(m, 'heading')?.value)?.heading) ?? compassDegrees(metric(m, 'compassDirection')?.value));
  put(out, 'speed', nonNegative(metric(m, 'speed')?.value));
  put(out, 'time', normaliseTimestamp(p?.updateTime) ?? normaliseTimestamp(p?.gpsModuleTimestamp));
  return out;
}

/** The telemetry as a status read's `msg.raw`: no VIN, no location metrics. */
export function telemetryForStatus(body: unknown): unknown {
  const b = obj(body);
  if (!b) return body;
  const { vin: _vin, metrics: m, ...rest } = b;
  const kept = obj(m) ? Object.fromEntries(Object.entries(m as Obj).filter(([k]) => !LOCATION_METRICS.includes(k))) : m;
  return { ...rest, metrics: kept };
}

/** The telemetry as a location read's `msg.raw`: its time and the location metrics only. */
export function telemetryForLocation(body: unknown): unknown {
  const b = obj(body);
  const m = obj(b?.metrics) ?? {};
  const metricsOut = Object.fromEntries(Object.entries(m).filter(([k]) => LOCATION_METRICS.includes(k)));
  return { ...(b && str(b.updateTime) ? { updateTime: b.updateTime } : {}), metrics: metricsOut };
}
