import { ApiError } from './errors';
import { bool, clampPercent, isObject, newest, nonEmpty, nonNegative, normaliseTimestamp, num, obj, put, str, upper, type Obj } from './wire-values';

/**
 * The documented status and location objects of `ford-status` and
 * `ford-location` (their `msg.payload`), and the pure mappers from Ford's
 * wire formats into them. Both APIs map into the same shapes, so a flow does
 * not care which API its account uses.
 *
 * Rules every mapper keeps:
 * - SI units (km, kPa, %, V, km/h, degrees), the unit in the field name where it is not obvious;
 * - timestamps as ISO 8601 UTC strings (`2026-11-25T08:11:31.000Z`);
 * - data the vehicle did not report is **absent**, never zero, empty or guessed;
 *   a field of the wrong type counts as not reported;
 * - coordinates, speed and heading appear only in {@link VehicleLocation}, never in the status.
 */

/** `locked` also covers Ford's `DOUBLE_LOCKED`; `unknown` when the vehicle did not say. */
export type LockState = 'locked' | 'unlocked' | 'unknown';
/**
 * Ford's `SET` / `ARMED` = `armed`, `NOTSET` / `DISARMED` = `disarmed`,
 * `ACTIVATED` = `triggered` (as is a sounding panic alarm, FordConnect Query).
 */
export type AlarmState = 'armed' | 'disarmed' | 'prearmed' | 'triggered' | 'unknown';
export type IgnitionState = 'on' | 'off' | 'accessory' | 'unknown';
export type OpenState = 'open' | 'closed';

/**
 * Door keys. FordConnect v1 names the front doors by role (`driver`,
 * `passenger`); FordConnect Query by position (`frontLeft`, `frontRight`), or
 * by role where it gives one. Query's rear doors and windows named by side
 * (`UNSPECIFIED_REAR` with `vehicleSide` `DRIVER` / `PASSENGER`) become
 * `rearLeft` / `rearRight` taking the driver's side as the left, as in
 * left-hand-drive markets (North America, most of Europe); on a
 * right-hand-drive vehicle they are mirrored. Only doors the vehicle reports
 * appear.
 */
export type DoorName =
  | 'driver'
  | 'passenger'
  | 'frontLeft'
  | 'frontRight'
  | 'rearLeft'
  | 'rearRight'
  | 'slidingLeft'
  | 'slidingRight'
  | 'rearCargoLeft'
  | 'rearCargoRight'
  | 'hood'
  | 'tailgate'
  | 'innerTailgate'
  | 'frunk';

export type WindowName = 'driver' | 'passenger' | 'frontLeft' | 'frontRight' | 'rearLeft' | 'rearRight';

export type WheelName = 'frontLeft' | 'frontRight' | 'rearLeft' | 'rearRight' | 'rearLeftInner' | 'rearLeftOuter' | 'rearRightInner' | 'rearRightOuter';

export type TyreState = 'normal' | 'low' | 'alert' | 'unknown';

/**
 * Charging, normalised from both APIs: `not-plugged`, `plugged` (ready, not
 * charging), `not-ready` (plugged, but the station gives no power),
 * `charging`, `paused` (stopped while plugged), `scheduled` (waiting for a
 * charge window), `complete` (target reached), `fault`, `unknown` (a value we
 * do not know yet: see `fordStatus`).
 */
export type ChargingStatus = 'not-plugged' | 'plugged' | 'not-ready' | 'charging' | 'paused' | 'scheduled' | 'complete' | 'fault' | 'unknown';

/** A fuel tank or traction battery. */
export interface EnergyLevel {
  /** Percent full, 0–100 (Ford's values above 100 are clamped). */
  level: number;
  /** Estimated range on what is left, km. */
  rangeKm?: number;
  /** When the vehicle measured it, ISO 8601 UTC. */
  updated?: string;
}

/**
 * The vehicle status (`msg.payload` of `ford-status`). Every field but
 * `vehicleId` and `lock` is optional: it is present only when the vehicle
 * reported it.
 */
export interface VehicleStatus {
  /** The vehicle id flows use (FordConnect's 32-character hex id; never the VIN). */
  vehicleId: string;
  /** The owner's nickname for the vehicle (FordConnect Query: from its garage). */
  name?: string;
  /** `ICE`, `HEV`, `PHEV` or `BEV` (Ford's older `EV` reads as `BEV`); other values as Ford sends them. FordConnect Query: from its garage. */
  engineType?: string;
  /** Door locks. Always present: `unknown` when the vehicle did not report them. */
  lock: LockState;
  /** The anti-theft alarm. */
  alarm?: AlarmState;
  /** Fuel tank (vehicles with one). */
  fuel?: EnergyLevel;
  /** Traction battery (electric and plug-in hybrid vehicles). */
  battery?: EnergyLevel;
  /** Odometer, km. */
  odometerKm?: number;
  /** Ignition switch. */
  ignition?: IgnitionState;
  /** Engine (or, on an electric vehicle, cabin climate) after a remote start. */
  engine?: {
    running: boolean;
    /** Minutes left before a remote start ends by itself (only while running). */
    remainingMinutes?: number;
    /** When the vehicle reported it, ISO 8601 UTC. */
    updated?: string;
  };
  /** Each reported door (see {@link DoorName}): `open` or `closed`. */
  doors?: Partial<Record<DoorName, OpenState>>;
  /** Each reported window: `open` (even a little) or `closed`. FordConnect v1 reports none. */
  windows?: Partial<Record<WindowName, OpenState>>;
  /** Tyres. */
  tyres?: {
    /** The tyre pressure warning is on (some tyre is low or the system has a fault). */
    warning?: boolean;
    /** Pressure per wheel, kPa (FordConnect Query only). */
    pressuresKpa?: Partial<Record<WheelName, number>>;
    /** Ford's verdict per wheel (FordConnect Query only). */
    states?: Partial<Record<WheelName, TyreState>>;
    /**
     * When the vehicle last reported its tyres (the newest of their readings),
     * ISO 8601 UTC. Tyres report on their own, slower schedule: this can be
     * days older than `lastUpdated` (FordConnect Query only; v1 gives no time).
     */
    updated?: string;
  };
  /** Charging (only for vehicles that plug in). */
  charging?: {
    /** A charging cable is connected. */
    plugged?: boolean;
    status: ChargingStatus;
    /** The value as Ford sent it (e.g. `ChargingAC`, `IN_PROGRESS`), for what `status` cannot say. */
    fordStatus?: string;
    /** Kind of supply, when known. */
    power?: 'ac' | 'dc' | 'wireless';
    /** Minutes until the charge target is reached (FordConnect Query). */
    minutesToFull?: number;
    /** When the current or last charge started, ISO 8601 UTC (FordConnect v1). */
    startTime?: string;
    /** When charging is expected to end (while charging) or ended, ISO 8601 UTC (FordConnect v1). */
    endTime?: string;
    updated?: string;
  };
  /** The 12 V battery that powers the modem: a status refresh costs it charge. */
  battery12V?: {
    /** Percent. */
    level?: number;
    /** Volts. */
    voltage?: number;
    /** When the vehicle last reported it (the newer of level and voltage), ISO 8601 UTC: often days older than `lastUpdated`. */
    updated?: string;
  };
  /** The modem sleeps to save the 12 V battery: data may be stale and commands will fail until it wakes. */
  deepSleep?: boolean;
  /** A software update is being installed: commands are refused meanwhile. */
  firmwareUpdating?: boolean;
  /**
   * When the vehicle last reported, ISO 8601 UTC: Ford's own `lastUpdated`
   * (FordConnect v1) or `updateTime` (Query), else the newest time of any
   * field. Absent only when the API sent no time at all. Compare it with now
   * to show the data's age.
   */
  lastUpdated?: string;
}

/** `msg.payload` of `ford-location`. */
export interface VehicleLocation {
  /** Degrees north, WGS 84. */
  latitude: number;
  /** Degrees east, WGS 84. */
  longitude: number;
  /** Degrees clockwise from north, 0 ≤ heading < 360, to 0.1° (FordConnect v1 gives eight compass points). */
  heading?: number;
  /** km/h. */
  speed?: number;
  /** When the vehicle measured the position, ISO 8601 UTC. */
  time?: string;
}

export function normaliseEngineType(v: unknown): string | undefined {
  const t = upper(v);
  return t === 'EV' ? 'BEV' : t;
}

/** Vehicles that plug in; unknown engine type: decided by the presence of a traction battery. */
export function plugsIn(engineType: string | undefined, battery: EnergyLevel | undefined): boolean {
  if (engineType === 'ICE' || engineType === 'HEV') return false;
  if (engineType === 'BEV' || engineType === 'PHEV') return true;
  return battery !== undefined;
}

// ---------------------------------------------------------------------------
// FordConnect v1

const V1_DOORS: Record<string, DoorName> = {
  REAR_LEFT: 'rearLeft',
  REAR_RIGHT: 'rearRight',
  HOOD_DOOR: 'hood',
  HOOD: 'hood',
  TAILGATE: 'tailgate',
  INNER_TAILGATE: 'innerTailgate',
};

export function lockState(v: unknown): LockState {
  const s = upper(v);
  if (s === 'LOCKED' || s === 'DOUBLE_LOCKED') return 'locked';
  if (s === 'UNLOCKED') return 'unlocked';
  return 'unknown';
}

export function alarmState(v: unknown): AlarmState | undefined {
  const s = upper(v);
  if (s === undefined) return undefined;
  switch (s) {
    case 'SET':
    case 'ARMED':
      return 'armed';
    case 'NOTSET':
    case 'NOT_SET':
    case 'DISARMED':
      return 'disarmed';
    case 'PREARMED':
      return 'prearmed';
    case 'ACTIVATED':
    case 'TRIGGERED':
      return 'triggered';
    default:
      return 'unknown';
  }
}

export function ignitionState(v: unknown): IgnitionState | undefined {
  const s = upper(v);
  if (s === undefined) return undefined;
  if (s === 'ON' || s === 'RUN' || s === 'START') return 'on';
  if (s === 'OFF') return 'off';
  if (s === 'ACCESSORY') return 'accessory';
  return 'unknown';
}

export function openState(v: unknown): OpenState | undefined {
  const s = upper(v);
  if (s === 'OPEN' || s === 'AJAR') return 'open';
  if (s === 'CLOSED') return 'closed';
  return undefined;
}

/** FordConnect v1 `chargingStatus.value` (e.g. `ChargingAC`, `EvseNotDetected`). */
function v1Charging(value: string): { status: ChargingStatus; power?: 'ac' | 'dc' } {
  const v = value.toLowerCase();
  if (v === 'evsenotdetected' || v === 'notplugged' || v === 'unplugged') return { status: 'not-plugged' };
  if (v === 'ready') return { status: 'plugged' };
  if (v === 'notready') return { status: 'not-ready' };
  if (v.startsWith('charging')) return { status: 'charging', ...(v.endsWith('ac') ? { power: 'ac' as const } : v.endsWith('dc') ? { power: 'dc' as const } : {}) };
  if (v.includes('targetreached') || v.includes('complete') || v === 'full') return { status: 'complete' };
  if (v.includes('pause') || v.includes('stop')) return { status: 'paused' };
  if (v.includes('schedul')) return { status: 'scheduled' };
  if (v.includes('fault') || v.includes('error')) return { status: 'fault' };
  return { status: 'unknown' };
}

function v1Level(v: unknown): EnergyLevel | undefined {
  const o = obj(v);
  const level = num(o?.value);
  // Ford sends `{ value: null, distanceToEmpty: 0 }` for a tank or battery the vehicle lacks.
  if (!o || level === undefined) return undefined;
  const out: EnergyLevel = { level: clampPercent(level) };
  put(out, 'rangeKm', nonNegative(o.distanceToEmpty));
  put(out, 'updated', normaliseTimestamp(o.timestamp ?? o.timeStamp));
  return out;
}

/** Ford's 32-character vehicle id or undefined. */
function vehicleIdOf(vehicle: Obj, fallback: string | undefined): string {
  const id = str(vehicle.vehicleId) ?? fallback;
  if (!id) throw new ApiError('bad-response', 'the vehicle information has no vehicleId');
  return id;
}

/** How many values a body holds, however deep (null and undefined are "not reported", and so are empty objects). */
function reportedValues(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value !== 'object') return 1;
  return Object.values(value).reduce((n: number, v) => n + reportedValues(v), 0);
}

/**
 * Maps the body of FordConnect v1's vehicle information
 * (`GET …/v3/vehicles/{vehicleId}`) into a {@link VehicleStatus}. A body
 * without a `vehicle` object is an ApiError `bad-response`, and so is one
 * whose reported values are all of a type Ford does not document; any other
 * field that is missing or of the wrong type is simply absent.
 */
export function mapFordConnectV1Status(body: unknown, vehicleId?: string): VehicleStatus {
  const vehicle = obj(obj(body)?.vehicle);
  if (!vehicle) throw new ApiError('bad-response', 'the vehicle information has no vehicle object');
  const details = obj(vehicle.vehicleDetails) ?? {};
  const vs = obj(vehicle.vehicleStatus) ?? {};
  const times: (string | undefined)[] = [];
  const time = (o: Obj | undefined): string | undefined => {
    const t = normaliseTimestamp(o?.timestamp ?? o?.timeStamp);
    times.push(t);
    return t;
  };

  const lockObj = obj(vs.lockStatus);
  time(lockObj);
  const status: VehicleStatus = { vehicleId: vehicleIdOf(vehicle, vehicleId), lock: lockState(lockObj?.value) };
  put(status, 'name', str(vehicle.nickName));
  const engineType = normaliseEngineType(vehicle.engineType);
  put(status, 'engineType', engineType);

  const alarmObj = obj(vs.alarm);
  time(alarmObj);
  put(status, 'alarm', alarmState(alarmObj?.value));

  const fuel = v1Level(details.fuelLevel);
  const battery = v1Level(details.batteryChargeLevel);
  times.push(fuel?.updated, battery?.updated);
  put(status, 'fuel', fuel);
  put(status, 'battery', battery);
  put(status, 'odometerKm', nonNegative(details.odometer));

  const ignitionObj = obj(vs.ignitionStatus);
  time(ignitionObj);
  put(status, 'ignition', ignitionState(ignitionObj?.value));

  const remote = obj(vs.remoteStartStatus);
  if (remote) {
    time(remote);
    const s = upper(remote.status);
    if (s === 'ENGINE_RUNNING' || s === 'ENGINE_STOPPED') {
      const running = s === 'ENGINE_RUNNING';
      const minutes = nonNegative(remote.duration);
      const engine: NonNullable<VehicleStatus['engine']> = running && minutes !== undefined && minutes > 0 ? { running, remainingMinutes: minutes } : { running };
      put(engine, 'updated', normaliseTimestamp(remote.timeStamp ?? remote.timestamp));
      status.engine = engine;
    }
  }

  if (Array.isArray(vs.doorStatus)) {
    const doors: Partial<Record<DoorName, OpenState>> = {};
    for (const d of vs.doorStatus) {
      const o = obj(d);
      if (!o) continue;
      time(o);
      const door = upper(o.vehicleDoor);
      const role = upper(o.vehicleOccupantRole);
      const name: DoorName | undefined = door === 'UNSPECIFIED_FRONT' ? (role === 'DRIVER' ? 'driver' : role === 'PASSENGER' ? 'passenger' : undefined) : door ? V1_DOORS[door] : undefined;
      const state = openState(o.value);
      if (name && state) doors[name] = state;
    }
    put(status, 'doors', nonEmpty(doors));
  }

  const warning = bool(vs.tirePressureWarning);
  if (warning !== undefined) status.tyres = { warning };

  if (plugsIn(engineType, battery)) {
    const cs = obj(vs.chargingStatus);
    const plug = obj(vs.plugStatus);
    const plugged = bool(plug?.value);
    time(plug);
    const fordStatus = str(cs?.value);
    if (fordStatus !== undefined || plugged !== undefined) {
      const mapped = fordStatus ? v1Charging(fordStatus) : { status: plugged ? ('plugged' as const) : ('not-plugged' as const) };
      const charging: NonNullable<VehicleStatus['charging']> = { status: mapped.status };
      put(charging, 'plugged', plugged);
      put(charging, 'fordStatus', fordStatus);
      put(charging, 'power', mapped.power);
      put(charging, 'startTime', normaliseTimestamp(cs?.chargeStartTime));
      put(charging, 'endTime', normaliseTimestamp(cs?.chargeEndTime));
      put(charging, 'updated', time(cs) ?? normaliseTimestamp(plug?.timestamp ?? plug?.timeStamp));
      status.charging = charging;
    }
  }

  put(status, 'deepSleep', bool(vs.deepSleepInProgress));
  put(status, 'firmwareUpdating', bool(vs.firmwareUpgradeInProgress));
  put(status, 'lastUpdated', normaliseTimestamp(vehicle.lastUpdated) ?? newest(times));
  // Fields there but none readable (every value of another type): an empty status would look like a healthy car.
  if (Object.keys(status).length === 2 && status.lock === 'unknown' && reportedValues(vs) + reportedValues(details) > 0) {
    throw new ApiError('bad-response', 'the vehicle information has no field of the type Ford documents');
  }
  return status;
}

const COMPASS: Record<string, number> = {
  NORTH: 0,
  NORTHEAST: 45,
  EAST: 90,
  SOUTHEAST: 135,
  SOUTH: 180,
  SOUTHWEST: 225,
  WEST: 270,
  NORTHWEST: 315,
};

/** `North`, `NorthEast`, `NORTH_EAST`, `NE` … as degrees. */
export function compassDegrees(v: unknown): number | undefined {
  const s = upper(v)?.replace(/[\s_-]/g, '');
  if (!s) return undefined;
  if (s in COMPASS) return COMPASS[s];
  const short: Record<string, string> = { N: 'NORTH', NE: 'NORTHEAST', E: 'EAST', SE: 'SOUTHEAST', S: 'SOUTH', SW: 'SOUTHWEST', W: 'WEST', NW: 'NORTHWEST' };
  return short[s] !== undefined ? COMPASS[short[s]] : undefined;
}

/** A position from raw values, or undefined when either coordinate is missing or out of range. */
export function position(lat: unknown, lon: unknown): { latitude: number; longitude: number } | undefined {
  const latitude = num(lat);
  const longitude = num(lon);
  if (latitude === undefined || longitude === undefined) return undefined;
  if (latitude < -90 || latitude > 90 || longitude < -180 || longitude > 180) return undefined;
  return { latitude, longitude };
}

/**
 * Maps a FordConnect v1 `vehicleLocation` (from `GET …/{vehicleId}/location`,
 * or the object itself) into a {@link VehicleLocation}. Latitude and
 * longitude arrive as strings; without a valid pair the body is an ApiError
 * `bad-response`.
 */
export function mapFordConnectV1Location(body: unknown): VehicleLocation {
  const b = obj(body);
  const loc = obj(b?.vehicleLocation) ?? obj(obj(b?.vehicle)?.vehicleLocation) ?? (b && 'latitude' in b ? b : undefined);
  if (!loc) throw new ApiError('bad-response', 'the location answer has no vehicleLocation');
  const pos = position(loc.latitude, loc.longitude);
  if (!pos) throw new ApiError('bad-response', 'the location answer has no valid latitude and longitude');
  const out: VehicleLocation = { ...pos };
  put(out, 'heading', compassDegrees(loc.direction) ?? headingDegrees(loc.heading));
  put(out, 'speed', nonNegative(loc.speed));
  put(out, 'time', normaliseTimestamp(loc.timeStamp ?? loc.timestamp));
  return out;
}

/**
 * Any number of degrees as 0 ≤ heading < 360, to 0.1°: the wrap-around
 * arithmetic leaves float noise (0.9 came out as 0.8999999999999773), and no
 * vehicle's heading is finer than that.
 */
export function headingDegrees(v: unknown): number | undefined {
  const n = num(v);
  if (n === undefined) return undefined;
  const d = Math.round((((n % 360) + 360) % 360) * 10) / 10;
  return d >= 360 ? 0 : d;
}

/** The v1 body as `msg.raw` of a status read: without `vehicleLocation`, which only a location read may show. */
export function withoutLocation(body: unknown): unknown {
  const b = obj(body);
  const vehicle = obj(b?.vehicle);
  if (!b || !vehicle || !('vehicleLocation' in vehicle)) return body;
  const { vehicleLocation: _dropped, ...rest } = vehicle;
  return { ...b, vehicle: rest };
}

// ---------------------------------------------------------------------------
// Position helpers for change-only output and privacy rounding

const EARTH_RADIUS_M = 6_371_008.8;
const METRES_PER_DEGREE = (Math.PI / 180) * EARTH_RADIUS_M;

/** Great-circle distance between two positions (haversine), metres. */
export function distanceMetres(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Snaps a position to a grid of about `metres` (north–south and east–west at
 * that latitude), so every position in one cell leaves the node as the same
 * point: the cell gives away no more than its size. `0` (or anything not a
 * positive number) keeps the exact position. Other fields are kept.
 */
export function roundPosition<T extends { latitude: number; longitude: number }>(loc: T, metres: number): T {
  if (!(metres > 0) || !Number.isFinite(metres)) return { ...loc };
  const latStep = metres / METRES_PER_DEGREE;
  const latitude = Math.max(-90, Math.min(90, Math.round(loc.latitude / latStep) * latStep));
  // The east–west step widens towards the poles; taken at the snapped latitude so one cell gives one answer.
  const cos = Math.max(Math.cos((latitude * Math.PI) / 180), 1e-6);
  const lonStep = Math.min(360, latStep / cos);
  let longitude = Math.round(loc.longitude / lonStep) * lonStep;
  if (longitude > 180) longitude -= 360;
  if (longitude < -180) longitude += 360;
  return { ...loc, latitude: trim(latitude), longitude: trim(longitude) };
}

/** Seven decimals (about 1 cm): no float noise like 42.315700000000004 in the output. */
function trim(n: number): number {
  return Math.round(n * 1e7) / 1e7;
}

// ---------------------------------------------------------------------------
// Change detection

/** Keys that only say *when*: a status whose data is the same but newer has not changed. */
export const TIMESTAMP_KEYS: readonly string[] = ['lastUpdated', 'updated', 'time'];

/**
 * The dotted paths of the leaves that differ between two readings, sorted,
 * e.g. `['doors.driver', 'fuel.level', 'lock']`. A field that appears or
 * disappears counts as changed (each of its leaves is listed). Timestamp-only
 * keys ({@link TIMESTAMP_KEYS}: `lastUpdated`, `updated`, `time`) are ignored,
 * so a fresh report of the same state yields `[]`. With no previous reading
 * every leaf of `next` is listed. Arrays compare as a whole.
 */
export function changedFields(prev: unknown, next: unknown, ignore: readonly string[] = TIMESTAMP_KEYS): string[] {
  const out: string[] = [];
  walk(prev, next, '', new Set(ignore), out);
  return out.sort();
}

function walk(a: unknown, b: unknown, path: string, ignore: Set<string>, out: string[]): void {
  if (isObject(a) || isObject(b)) {
    const ao = isObject(a) ? a : {};
    const bo = isObject(b) ? b : {};
    // A leaf that turned into an object (or back) is a change of the leaf itself.
    if (path && ((a !== undefined && !isObject(a)) || (b !== undefined && !isObject(b)))) out.push(path);
    const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
    for (const k of keys) {
      if (ignore.has(k)) continue;
      walk(ao[k], bo[k], path ? `${path}.${k}` : k, ignore, out);
    }
    return;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
    return;
  }
  if (a !== b && !(Number.isNaN(a) && Number.isNaN(b))) out.push(path);
}
