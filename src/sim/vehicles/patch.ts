import { canCharge, DOOR_NAMES, hasEnergy, hasTank, hasTractionBattery, type DoorName, type Vehicle, type VehicleState } from './vehicle';

/**
 * The test control's "set state": a partial, validated as a whole before
 * anything changes, so a bad patch leaves the vehicle exactly as it was.
 */

export const PATCH_KEYS = [
  'locked',
  'alarm',
  'doorsOpen',
  'ignition',
  'driving',
  'speedKph',
  'remoteStartMinutesLeft',
  'fuelPercent',
  'batteryPercent',
  'plugged',
  'charging',
  'chargeTargetPercent',
  'chargerKw',
  'chargerType',
  'position',
  'odometerKm',
  'tirePressureKpa',
  'battery12VPercent',
  'deepSleep',
  'firmwareUpgrade',
] as const;

export type PatchKey = (typeof PATCH_KEYS)[number];

type Setter = (next: VehicleState) => void;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumberIn = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;

/** Returns the error text, or undefined once the patch is applied. */
export function applyPatch(vehicle: Vehicle, patch: unknown): string | undefined {
  if (!isRecord(patch)) return 'body must be a JSON object';
  const spec = vehicle.spec;
  const setters: Setter[] = [];
  const has = (k: PatchKey): boolean => Object.prototype.hasOwnProperty.call(patch, k);

  for (const [key, value] of Object.entries(patch)) {
    switch (key as PatchKey) {
      case 'locked':
      case 'alarm':
      case 'driving':
      case 'plugged':
      case 'charging':
      case 'deepSleep':
      case 'firmwareUpgrade':
        if (typeof value !== 'boolean') return `${key} must be true or false`;
        break;
      case 'doorsOpen':
        if (!Array.isArray(value) || !value.every((d) => typeof d === 'string')) return `doorsOpen must be an array of door names (${spec.doors.join(', ')})`;
        for (const d of value as string[]) {
          if (!(DOOR_NAMES as readonly string[]).includes(d) || !spec.doors.includes(d as DoorName)) return `doorsOpen: this vehicle has no door ${d}; it has ${spec.doors.join(', ')}`;
        }
        break;
      case 'ignition':
        if (value !== 'ON' && value !== 'OFF') return 'ignition must be "ON" or "OFF"';
        break;
      case 'speedKph':
        if (value !== null && !isNumberIn(value, 1, 250)) return 'speedKph must be a number from 1 to 250, or null for the route speed';
        break;
      case 'remoteStartMinutesLeft':
        if (!isNumberIn(value, 0, 60)) return 'remoteStartMinutesLeft must be a number from 0 to 60';
        break;
      case 'fuelPercent':
        if (!hasTank(spec)) return `fuelPercent: a ${spec.engineType} ${spec.modelName} has no fuel tank`;
        if (!isNumberIn(value, 0, 100)) return 'fuelPercent must be a number from 0 to 100';
        break;
      case 'batteryPercent':
        if (!hasTractionBattery(spec)) return `batteryPercent: a ${spec.engineType} ${spec.modelName} has no traction battery`;
        if (!isNumberIn(value, 0, 100)) return 'batteryPercent must be a number from 0 to 100';
        break;
      case 'chargeTargetPercent':
        if (!canCharge(spec)) return `${key}: a ${spec.engineType} ${spec.modelName} cannot charge`;
        if (!isNumberIn(value, 50, 100)) return 'chargeTargetPercent must be a number from 50 to 100';
        break;
      case 'chargerKw':
        if (!canCharge(spec)) return `${key}: a ${spec.engineType} ${spec.modelName} cannot charge`;
        if (!isNumberIn(value, 0.5, 350)) return 'chargerKw must be a number from 0.5 to 350';
        break;
      case 'chargerType':
        if (!canCharge(spec)) return `${key}: a ${spec.engineType} ${spec.modelName} cannot charge`;
        if (value !== 'AC' && value !== 'DC') return 'chargerType must be "AC" or "DC"';
        if (value === 'DC' && !(spec.maxDcKw ?? 0)) return `chargerType: a ${spec.modelName} has no DC fast charging`;
        break;
      case 'position':
        if (!isRecord(value) || !isNumberIn(value.lat, -90, 90) || !isNumberIn(value.lon, -180, 180) || Object.keys(value).some((k) => k !== 'lat' && k !== 'lon')) {
          return 'position must be { "lat": -90..90, "lon": -180..180 }';
        }
        break;
      case 'odometerKm':
        if (!isNumberIn(value, 0, 2_000_000)) return 'odometerKm must be a number from 0 to 2000000';
        break;
      case 'tirePressureKpa':
        if (!(isNumberIn(value, 0, 600) || (Array.isArray(value) && value.length === 4 && value.every((p) => isNumberIn(p, 0, 600))))) {
          return 'tirePressureKpa must be a number or four numbers (front left, front right, rear left, rear right) from 0 to 600';
        }
        break;
      case 'battery12VPercent':
        if (!isNumberIn(value, 0, 100)) return 'battery12VPercent must be a number from 0 to 100';
        break;
      default:
        return `unknown field ${key}; known: ${PATCH_KEYS.join(', ')}`;
    }
    setters.push(setterFor(key as PatchKey, value));
  }

  const before = vehicle.state;
  const next = vehicle.state;
  for (const set of setters) set(next);

  // Side effects a person would expect, unless the patch says otherwise.
  if (next.plugged && !before.plugged && !has('charging')) {
    next.chargeEnabled = true; // plugging in starts a charge, as on a car without a schedule
    next.chargePaused = false;
  }
  if (has('charging')) next.chargePaused = !next.chargeEnabled && next.plugged;
  if (!next.plugged) next.chargePaused = false;
  if (next.driving && !before.driving) {
    if (!has('ignition')) next.ignitionOn = true;
    if (!has('remoteStartMinutesLeft')) next.remoteStartUntil = null;
    if (!has('position')) next.parkedAt = null; // rejoins its route
  }
  if (!next.driving && before.driving && !has('ignition')) next.ignitionOn = false;
  if (has('locked') && !has('alarm')) next.alarmSet = next.locked;

  if (next.driving && next.plugged) return 'a plugged-in vehicle cannot drive: unplug it in the same patch';
  if (next.plugged && !canCharge(spec)) return `plugged: a ${spec.engineType} ${spec.modelName} has no charge port`;
  if (next.driving && has('position')) return 'position sets where a parked vehicle stands; a driving one follows its route';
  if (next.driving && !hasEnergy(spec, next)) return 'driving: no fuel or charge left';
  if (next.driving && next.remoteStartUntil !== null && has('remoteStartMinutesLeft') && next.remoteStartUntil > next.time) return 'a remote start needs a parked vehicle';

  vehicle.mutate((s) => Object.assign(s, next));
  return undefined;
}

function setterFor(key: PatchKey, value: unknown): Setter {
  const bool = value as boolean;
  const num = value as number;
  switch (key) {
    case 'locked':
      return (n) => { n.locked = bool; };
    case 'alarm':
      return (n) => { n.alarmSet = bool; };
    case 'doorsOpen':
      return (n) => { n.doorsOpen = [...new Set(value as DoorName[])]; };
    case 'ignition':
      return (n) => { n.ignitionOn = value === 'ON'; };
    case 'driving':
      return (n) => { n.driving = bool; };
    case 'speedKph':
      return (n) => { n.speedKph = value as number | null; };
    case 'remoteStartMinutesLeft':
      return (n) => { n.remoteStartUntil = num > 0 ? n.time + num * 60_000 : null; };
    case 'fuelPercent':
      return (n) => { n.fuelPercent = num; };
    case 'batteryPercent':
      return (n) => { n.batteryPercent = num; };
    case 'plugged':
      return (n) => { n.plugged = bool; };
    case 'charging':
      return (n) => { n.chargeEnabled = bool; };
    case 'chargeTargetPercent':
      return (n) => { n.chargeTargetPercent = num; };
    case 'chargerKw':
      return (n) => { n.chargerKw = num; };
    case 'chargerType':
      return (n) => { n.chargerType = value as 'AC' | 'DC'; };
    case 'position':
      return (n) => {
        const p = value as { lat: number; lon: number };
        n.parkedAt = { lat: p.lat, lon: p.lon };
      };
    case 'odometerKm':
      return (n) => { n.odometerKm = num; };
    case 'tirePressureKpa':
      return (n) => {
        const v = value as number | number[];
        n.tirePressureKpa = typeof v === 'number' ? [v, v, v, v] : [v[0], v[1], v[2], v[3]];
      };
    case 'battery12VPercent':
      return (n) => { n.battery12VPercent = num; };
    case 'deepSleep':
      return (n) => { n.deepSleep = bool; };
    case 'firmwareUpgrade':
      return (n) => { n.firmwareUpgrade = bool; };
  }
}
