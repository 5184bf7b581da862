import { compassDirection, type CompassDirection, type Route } from './route';

/**
 * One simulated vehicle: what it is (spec), what it is doing right now
 * (state, integrated lazily over simulated time) and what its modem last
 * told the cloud (the report the API surfaces show).
 */

/** Ford's spellings; `EV` is the older documentation's word for a BEV. */
export type EngineType = 'ICE' | 'HEV' | 'PHEV' | 'BEV' | 'EV';

export const DOOR_NAMES = ['DRIVER', 'PASSENGER', 'REAR_LEFT', 'REAR_RIGHT', 'HOOD_DOOR', 'TAILGATE', 'INNER_TAILGATE'] as const;
export type DoorName = (typeof DOOR_NAMES)[number];

export const DAYS_OF_WEEK = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

export interface ChargeSchedule {
  days: 'WEEKDAY' | 'WEEKEND';
  /** Local `HH:mm` windows. */
  chargeWindows: { startTime: string; endTime: string }[];
}

export interface DepartureTime {
  dayOfWeek: DayOfWeek;
  /** `HH:mm`, simulated UTC. */
  time: string;
  preConditioningSetting: 'OFF' | 'COOL' | 'MEDIUM' | 'WARM';
}

export interface VehicleSpec {
  /** 32 lowercase hex characters, as FordConnect's vehicleId. */
  id: string;
  vin: string;
  make: string;
  modelName: string;
  modelYear: string;
  color: string;
  nickName: string;
  engineType: EngineType;
  ownerIds: string[];
  doors: DoorName[];
  fuelTankLitres?: number;
  litresPer100Km?: number;
  idleLitresPerHour?: number;
  /** Usable traction battery. */
  batteryKwh?: number;
  kwhPer100Km?: number;
  /** Cabin climate draw during a remote start of an electric vehicle. */
  climateKw?: number;
  maxAcKw?: number;
  maxDcKw?: number;
  /** Cold placard pressure, kPa. */
  nominalTirePressureKpa: number;
  route: Route;
  chargeSchedules?: ChargeSchedule[];
  departureTimes?: DepartureTime[];
}

export interface VehicleState {
  /** Simulated ms this state is integrated to. */
  time: number;
  locked: boolean;
  alarmSet: boolean;
  doorsOpen: DoorName[];
  /** A driver's key in the run position (remote start is separate). */
  ignitionOn: boolean;
  driving: boolean;
  /** null: drive at the route's speed. */
  speedKph: number | null;
  /** Engine (or cabin climate) running after a remote start, until this time. */
  remoteStartUntil: number | null;
  fuelPercent: number | null;
  batteryPercent: number | null;
  plugged: boolean;
  /** The car wants to charge when plugged in (a startCharge, or plugging in). */
  chargeEnabled: boolean;
  /** Stopped by a command while plugged: Ford says `EvsePaused`. */
  chargePaused: boolean;
  chargeTargetPercent: number;
  chargerKw: number;
  chargerType: 'AC' | 'DC';
  /** Bookkeeping for chargeStartTime / chargeEndTime. */
  chargingActive: boolean;
  chargeStartedAt: number | null;
  chargeEndedAt: number | null;
  /** Metres along the route loop. */
  routeDistanceM: number;
  /** Set by the test control: parked off the route until it drives again. */
  parkedAt: { lat: number; lon: number } | null;
  headingDeg: number;
  odometerKm: number;
  /** Front left, front right, rear left, rear right. */
  tirePressureKpa: [number, number, number, number];
  battery12VPercent: number;
  deepSleep: boolean;
  firmwareUpgrade: boolean;
  lastSignalAt: number | null;
}

/** Everything a surface shows, derived from a spec and one state. */
export interface VehicleView {
  time: number;
  locked: boolean;
  alarmSet: boolean;
  doors: { name: DoorName; open: boolean }[];
  /** As the vehicle reports it: on with a key, while driving or during a remote start. */
  ignitionOn: boolean;
  engineRunning: boolean;
  remoteStartMinutesLeft: number;
  driving: boolean;
  speedKph: number;
  lat: number;
  lon: number;
  headingDeg: number;
  direction: CompassDirection;
  odometerKm: number;
  fuelPercent: number | null;
  fuelRangeKm: number | null;
  batteryPercent: number | null;
  batteryRangeKm: number | null;
  plugged: boolean;
  charging: boolean;
  chargingStatus: ChargingStatus;
  chargePowerKw: number;
  /** The connected charger's kind (meaningful while plugged). */
  chargerType: 'AC' | 'DC';
  chargeTargetPercent: number;
  chargeStartedAt: number | null;
  /** Estimated end while charging, actual end after. */
  chargeEndAt: number | null;
  tirePressureKpa: number[];
  tirePressureWarning: boolean;
  battery12VPercent: number;
  battery12VVoltage: number;
  deepSleep: boolean;
  firmwareUpgrade: boolean;
  lastSignalAt: number | null;
}

/** FordConnect's `chargingStatus.value` spellings. */
export type ChargingStatus = 'EvseNotDetected' | 'Ready' | 'NotReady' | 'ChargingAC' | 'ChargingDC' | 'ChargeTargetReached' | 'EvsePaused';

const HOUR_MS = 3_600_000;
const EPS = 1e-9;
/** The 12 V battery recovers while the engine runs or the car charges. */
const AUX_RECHARGE_PERCENT_PER_MS = 20 / HOUR_MS;
const CHARGE_EFFICIENCY = 0.9;
/** A loop guard: far more steps than years of driving need. */
const MAX_STEPS = 2_000_000;
/** Smallest step: above a timestamp's float resolution, so time always moves. */
const MIN_STEP_MS = 0.01;
/** Below this the modem goes into deep sleep and answers nothing but `wake`. */
export const DEEP_SLEEP_BELOW_PERCENT = 20;

export function hasTank(spec: VehicleSpec): boolean {
  return (spec.fuelTankLitres ?? 0) > 0;
}

export function hasTractionBattery(spec: VehicleSpec): boolean {
  return (spec.batteryKwh ?? 0) > 0;
}

/** BEV, EV and PHEV plug in; ICE and HEV cannot (charge calls answer 406). */
export function canCharge(spec: VehicleSpec): boolean {
  return (spec.engineType === 'BEV' || spec.engineType === 'EV' || spec.engineType === 'PHEV') && hasTractionBattery(spec);
}

export function chargePowerKw(spec: VehicleSpec, s: VehicleState): number {
  const max = s.chargerType === 'DC' ? (spec.maxDcKw ?? 0) : (spec.maxAcKw ?? 0);
  return Math.max(0, Math.min(s.chargerKw, max));
}

export function isCharging(spec: VehicleSpec, s: VehicleState): boolean {
  return (
    canCharge(spec) &&
    s.plugged &&
    !s.driving &&
    s.chargeEnabled &&
    s.batteryPercent !== null &&
    s.batteryPercent < s.chargeTargetPercent - EPS &&
    chargePowerKw(spec, s) > 0
  );
}

export function isRemoteRunning(s: VehicleState): boolean {
  return s.remoteStartUntil !== null && s.remoteStartUntil > s.time && !s.driving;
}

/** Which energy store feeds the wheels or the cabin now; PHEVs use the battery first. */
function energySource(spec: VehicleSpec, s: VehicleState): 'fuel' | 'battery' | null {
  const battery = hasTractionBattery(spec) && spec.engineType !== 'HEV' && (s.batteryPercent ?? 0) > EPS;
  const fuel = hasTank(spec) && (s.fuelPercent ?? 0) > EPS;
  if (spec.engineType === 'PHEV') return battery ? 'battery' : fuel ? 'fuel' : null;
  if (spec.engineType === 'BEV' || spec.engineType === 'EV') return battery ? 'battery' : null;
  return fuel ? 'fuel' : null;
}

export function hasEnergy(spec: VehicleSpec, s: VehicleState): boolean {
  return energySource(spec, s) !== null;
}

function fuelRangeKm(spec: VehicleSpec, pct: number | null): number | null {
  if (pct === null || !hasTank(spec) || !spec.litresPer100Km) return null;
  return (((pct / 100) * (spec.fuelTankLitres ?? 0)) / spec.litresPer100Km) * 100;
}

function batteryRangeKm(spec: VehicleSpec, pct: number | null): number | null {
  if (pct === null || !hasTractionBattery(spec) || !spec.kwhPer100Km) return null;
  return (((pct / 100) * (spec.batteryKwh ?? 0)) / spec.kwhPer100Km) * 100;
}

function chargeRatePercentPerMs(spec: VehicleSpec, s: VehicleState): number {
  return ((chargePowerKw(spec, s) * CHARGE_EFFICIENCY) / HOUR_MS / (spec.batteryKwh ?? 1)) * 100;
}

function chargingStatusOf(spec: VehicleSpec, s: VehicleState): ChargingStatus {
  if (!canCharge(spec) || !s.plugged) return 'EvseNotDetected';
  if (isCharging(spec, s)) return s.chargerType === 'DC' ? 'ChargingDC' : 'ChargingAC';
  if (s.chargePaused) return 'EvsePaused';
  if (s.chargeEnabled && (s.batteryPercent ?? 0) >= s.chargeTargetPercent - EPS) return 'ChargeTargetReached';
  if (chargePowerKw(spec, s) <= 0) return 'NotReady';
  return 'Ready';
}

export function viewOf(spec: VehicleSpec, s: VehicleState): VehicleView {
  const onRoute = spec.route.at(s.routeDistanceM);
  const parked = s.parkedAt !== null && !s.driving;
  const lat = parked && s.parkedAt ? s.parkedAt.lat : onRoute.lat;
  const lon = parked && s.parkedAt ? s.parkedAt.lon : onRoute.lon;
  const headingDeg = s.driving ? onRoute.headingDeg : s.headingDeg;
  const running = isRemoteRunning(s);
  const charging = isCharging(spec, s);
  const rate = charging ? chargeRatePercentPerMs(spec, s) : 0;
  const engineOn = running || s.driving;
  return {
    time: s.time,
    locked: s.locked,
    alarmSet: s.alarmSet,
    doors: spec.doors.map((name) => ({ name, open: s.doorsOpen.includes(name) })),
    ignitionOn: s.ignitionOn || engineOn,
    engineRunning: running,
    remoteStartMinutesLeft: running && s.remoteStartUntil !== null ? Math.ceil((s.remoteStartUntil - s.time) / 60_000) : 0,
    driving: s.driving,
    speedKph: s.driving ? (s.speedKph ?? onRoute.kph) : 0,
    lat,
    lon,
    headingDeg,
    direction: compassDirection(headingDeg),
    odometerKm: s.odometerKm,
    fuelPercent: s.fuelPercent,
    fuelRangeKm: fuelRangeKm(spec, s.fuelPercent),
    batteryPercent: s.batteryPercent,
    batteryRangeKm: batteryRangeKm(spec, s.batteryPercent),
    plugged: s.plugged,
    charging,
    chargingStatus: chargingStatusOf(spec, s),
    chargePowerKw: charging ? chargePowerKw(spec, s) : 0,
    chargerType: s.chargerType,
    chargeTargetPercent: s.chargeTargetPercent,
    chargeStartedAt: s.chargeStartedAt,
    chargeEndAt: charging && s.batteryPercent !== null ? s.time + (s.chargeTargetPercent - s.batteryPercent) / rate : s.chargeEndedAt,
    tirePressureKpa: [...s.tirePressureKpa],
    tirePressureWarning: s.tirePressureKpa.some((p) => p < spec.nominalTirePressureKpa * 0.85),
    battery12VPercent: s.battery12VPercent,
    battery12VVoltage: engineOn || charging ? 14.2 : Math.round((11.9 + 0.0075 * s.battery12VPercent) * 100) / 100,
    deepSleep: s.deepSleep,
    firmwareUpgrade: s.firmwareUpgrade,
    lastSignalAt: s.lastSignalAt,
  };
}

function cloneState(s: VehicleState): VehicleState {
  return {
    ...s,
    doorsOpen: [...s.doorsOpen],
    parkedAt: s.parkedAt ? { ...s.parkedAt } : null,
    tirePressureKpa: [...s.tirePressureKpa],
  };
}

export interface Report {
  /** When the modem sent it. */
  at: number;
  view: VehicleView;
}

export class Vehicle {
  readonly id: string;
  readonly vin: string;
  readonly make: string;
  readonly modelName: string;
  readonly modelYear: string;
  readonly color: string;
  readonly nickName: string;
  readonly engineType: EngineType;
  readonly ownerIds: string[];

  private s: VehicleState;
  private lastReport: { at: number; state: VehicleState };
  private changedAt: number;
  private unreported = false;

  constructor(
    readonly spec: VehicleSpec,
    initial: VehicleState,
  ) {
    this.id = spec.id;
    this.vin = spec.vin;
    this.make = spec.make;
    this.modelName = spec.modelName;
    this.modelYear = spec.modelYear;
    this.color = spec.color;
    this.nickName = spec.nickName;
    this.engineType = spec.engineType;
    this.ownerIds = [...spec.ownerIds];
    this.s = cloneState(initial);
    this.syncChargeSession();
    this.changedAt = this.s.time;
    this.lastReport = { at: this.s.time, state: cloneState(this.s) };
  }

  /** A copy of the true state now (as far as it has been integrated). */
  get state(): VehicleState {
    return cloneState(this.s);
  }

  /** The truth, derived. */
  view(): VehicleView {
    return viewOf(this.spec, this.s);
  }

  /** What the modem last sent: stale while the vehicle is offline. */
  reported(): Report {
    return { at: this.lastReport.at, view: viewOf(this.spec, this.lastReport.state) };
  }

  canCharge(): boolean {
    return canCharge(this.spec);
  }

  /**
   * Integrates the physics up to `t`, stepping from event to event (segment
   * ends, a tank running dry, a charge reaching its target, a remote start
   * timing out), so the outcome does not depend on how often anyone reads.
   */
  advanceTo(t: number, online: boolean): void {
    let steps = 0;
    while (this.s.time < t && steps++ < MAX_STEPS) {
      const remaining = t - this.s.time;
      const dt = Math.min(remaining, Math.max(MIN_STEP_MS, this.nextEventInMs()));
      const active = this.flow(dt);
      // Land exactly on t: a + (t - a) need not equal t in floating point.
      this.s.time = dt >= remaining ? t : this.s.time + dt;
      const changed = this.settle();
      if (active || changed) this.touch();
    }
    if (this.s.time < t) this.s.time = t;
    this.flush(online);
  }

  /** Applies a discrete change at the current state time (a command, a test patch). */
  mutate(change: (s: VehicleState) => void): void {
    change(this.s);
    this.settle();
    this.touch();
  }

  /** The modem answers a refresh: a report now, changed or not. */
  forceReport(online: boolean): void {
    if (!online) return;
    this.lastReport = { at: this.s.time, state: cloneState(this.s) };
    this.unreported = false;
  }

  /** Sends what changed since the last report, when the modem can reach the cloud. */
  flush(online: boolean): void {
    if (!online || !this.unreported) return;
    const state = cloneState(this.s);
    state.time = this.changedAt;
    this.lastReport = { at: this.changedAt, state };
    this.unreported = false;
  }

  private touch(): void {
    this.changedAt = this.s.time;
    this.unreported = true;
  }

  /** Per-ms rates of the current mode; they are constant until the next event. */
  private rates(): { metresPerMs: number; fuelPerMs: number; batteryPerMs: number; auxPerMs: number } {
    const { spec, s } = this;
    let metresPerMs = 0;
    let fuelPerMs = 0;
    let batteryPerMs = 0;
    let auxPerMs = 0;
    const source = energySource(spec, s);
    if (s.driving && source) {
      const kph = s.speedKph ?? spec.route.at(s.routeDistanceM).kph;
      metresPerMs = kph / 3.6 / 1000;
      if (source === 'fuel') fuelPerMs = -metresPerMs * ((spec.litresPer100Km ?? 0) / 1e5 / (spec.fuelTankLitres ?? 1)) * 100;
      else batteryPerMs = -metresPerMs * ((spec.kwhPer100Km ?? 0) / 1e5 / (spec.batteryKwh ?? 1)) * 100;
      auxPerMs = AUX_RECHARGE_PERCENT_PER_MS;
    } else {
      if (isRemoteRunning(s) && source) {
        if (source === 'fuel') fuelPerMs = -((spec.idleLitresPerHour ?? 0) / HOUR_MS / (spec.fuelTankLitres ?? 1)) * 100;
        else batteryPerMs = -((spec.climateKw ?? 0) / HOUR_MS / (spec.batteryKwh ?? 1)) * 100;
        auxPerMs = AUX_RECHARGE_PERCENT_PER_MS;
      }
      // Plugged in, the charger also covers a preconditioning cabin: the battery sees the difference.
      if (isCharging(spec, s)) {
        batteryPerMs += chargeRatePercentPerMs(spec, s);
        auxPerMs = AUX_RECHARGE_PERCENT_PER_MS;
      }
    }
    return { metresPerMs, fuelPerMs, batteryPerMs, auxPerMs };
  }

  private nextEventInMs(): number {
    const { spec, s } = this;
    const r = this.rates();
    let next = Number.POSITIVE_INFINITY;
    if (s.remoteStartUntil !== null) next = Math.min(next, s.remoteStartUntil - s.time);
    if (r.metresPerMs > 0) next = Math.min(next, spec.route.at(s.routeDistanceM).segmentRemainingM / r.metresPerMs);
    if (r.fuelPerMs < 0 && s.fuelPercent !== null) next = Math.min(next, s.fuelPercent / -r.fuelPerMs);
    if (r.batteryPerMs < 0 && s.batteryPercent !== null) next = Math.min(next, s.batteryPercent / -r.batteryPerMs);
    if (r.batteryPerMs > 0 && s.batteryPercent !== null) next = Math.min(next, (s.chargeTargetPercent - s.batteryPercent) / r.batteryPerMs);
    return next;
  }

  /** Continuous change over `dt` ms at constant rates; true when anything moved. */
  private flow(dt: number): boolean {
    if (dt <= 0) return false;
    const { spec, s } = this;
    const r = this.rates();
    if (r.metresPerMs === 0 && r.fuelPerMs === 0 && r.batteryPerMs === 0 && r.auxPerMs === 0) return false;
    if (r.metresPerMs > 0) {
      const metres = r.metresPerMs * dt;
      s.routeDistanceM = (s.routeDistanceM + metres) % spec.route.lengthM;
      s.odometerKm += metres / 1000;
      s.headingDeg = spec.route.at(s.routeDistanceM).headingDeg;
    }
    if (s.fuelPercent !== null) s.fuelPercent = clampPercent(s.fuelPercent + r.fuelPerMs * dt);
    if (s.batteryPercent !== null) {
      const next = s.batteryPercent + r.batteryPerMs * dt;
      s.batteryPercent = r.batteryPerMs > 0 ? Math.min(next, Math.max(s.chargeTargetPercent, s.batteryPercent)) : clampPercent(next);
    }
    s.battery12VPercent = clampPercent(s.battery12VPercent + r.auxPerMs * dt);
    return true;
  }

  /** Discrete consequences at the current time; true when anything changed. */
  private settle(): boolean {
    const { spec, s } = this;
    let changed = false;
    if (s.fuelPercent !== null && s.fuelPercent < EPS && s.fuelPercent !== 0) s.fuelPercent = 0;
    if (s.batteryPercent !== null && s.batteryPercent < EPS && s.batteryPercent !== 0) s.batteryPercent = 0;
    if (s.batteryPercent !== null && s.chargingActive && s.batteryPercent > s.chargeTargetPercent - EPS && s.batteryPercent < s.chargeTargetPercent) {
      s.batteryPercent = s.chargeTargetPercent;
    }
    if (!hasEnergy(spec, s)) {
      // Out of fuel and charge: the car rolls to a stop and remote start ends.
      if (s.driving) {
        s.driving = false;
        changed = true;
      }
      if (s.remoteStartUntil !== null) {
        s.remoteStartUntil = null;
        changed = true;
      }
    }
    if (s.remoteStartUntil !== null && (s.remoteStartUntil <= s.time + 1e-6 || s.driving)) {
      s.remoteStartUntil = null;
      changed = true;
    }
    if (s.deepSleep === false && s.battery12VPercent < DEEP_SLEEP_BELOW_PERCENT && !s.driving && !isRemoteRunning(s) && !isCharging(spec, s)) {
      // The modem sleeps to save what is left of the 12 V battery.
      s.deepSleep = true;
      changed = true;
    }
    return this.syncChargeSession() || changed;
  }

  /** Keeps chargeStartTime / chargeEndTime honest across every transition. */
  private syncChargeSession(): boolean {
    const { spec, s } = this;
    const charging = isCharging(spec, s);
    if (charging === s.chargingActive) return false;
    s.chargingActive = charging;
    if (charging) {
      s.chargeStartedAt = s.time;
      s.chargeEndedAt = null;
    } else {
      s.chargeEndedAt = s.time;
    }
    return true;
  }
}

function clampPercent(v: number): number {
  return Math.min(100, Math.max(0, v));
}
