import { createHash } from 'node:crypto';
import { hasCategory } from '../oauth/fcon-categories';
import type { Grant } from '../oauth/store';
import { canCharge, DAYS_OF_WEEK, hasTank, hasTractionBattery, type ChargingStatus, type DepartureTime, type DoorName, type Vehicle, type VehicleView } from '../vehicles/vehicle';
import { isoTimestamp } from './ford-format';

/**
 * FordConnect Query's bodies, in the shapes of Ford's "FCON Query service"
 * 1.0.0 description (GarageResponseDTO, TelemetryResponse and its metric
 * schemas, ChargeScheduleResponse, DepartureTimeResponse,
 * VehicleAlertResponse): the same vehicle as FordConnect v1, seen the way
 * the newer API sees it. A metric is `{ updateTime, value, …qualifiers }`;
 * values are SI (km, kPa, %, V), km/h for speed as Ford sends it.
 */

export interface Metric<T> {
  updateTime: string;
  value: T;
}

type Role = 'DRIVER' | 'PASSENGER';
type OpenValue = 'CLOSED' | 'AJAR';
type LockValue = 'LOCKED' | 'UNLOCKED';
type Wheel = 'FRONT_LEFT' | 'FRONT_RIGHT' | 'REAR_LEFT' | 'REAR_RIGHT';

export interface DoorQualifiers {
  vehicleDoor: 'UNSPECIFIED_FRONT' | 'REAR_LEFT' | 'REAR_RIGHT' | 'TAILGATE' | 'INNER_TAILGATE' | 'ALL_DOORS';
  vehicleOccupantRole?: Role;
  vehicleSide?: Role;
}

export interface WindowQualifiers {
  vehicleWindow: 'UNSPECIFIED_FRONT' | 'UNSPECIFIED_REAR';
  vehicleOccupantRole: Role;
  vehicleSide: Role;
}

export interface TelemetryMetrics {
  doorLockStatus?: (Metric<LockValue> & DoorQualifiers)[];
  doorStatus?: (Metric<OpenValue> & DoorQualifiers)[];
  hoodStatus?: Metric<OpenValue>;
  windowStatus?: (Metric<{ doubleRange: { lowerBound: number; upperBound: number } }> & WindowQualifiers)[];
  tirePressure?: (Metric<number> & { vehicleWheel: Wheel; wheelPlacardFront: number; wheelPlacardRear: number })[];
  tirePressureStatus?: (Metric<'NORMAL' | 'LOW'> & { vehicleWheel: Wheel })[];
  odometer?: Metric<number>;
  ignitionStatus?: Metric<'ON' | 'OFF'>;
  alarmStatus?: Metric<'ARMED' | 'DISARMED'>;
  panicAlarmStatus?: Metric<'ACTIVE' | 'INACTIVE'>;
  remoteStartCountdownTimer?: Metric<number>;
  remoteStartDeviceStatus?: Metric<'RUNNING' | 'SHUTDOWN'>;
  batteryStateOfCharge?: Metric<number> & { vehicleBattery: 'PRIMARY_BATTERY' };
  batteryVoltage?: Metric<number> & { vehicleBattery: 'PRIMARY_BATTERY' };
  fuelLevel?: Metric<number>;
  fuelRange?: Metric<number>;
  xevBatteryStateOfCharge?: Metric<number>;
  xevBatteryRange?: Metric<number>;
  xevPlugChargerStatus?: Metric<'CONNECTED' | 'DISCONNECTED'>;
  xevBatteryChargeDisplayStatus?: Metric<ChargeDisplayStatus> & { xevChargerPowerType?: 'AC' | 'DC'; xevBatteryType: 'HIGH_VOLTAGE' };
  xevBatteryTimeToFullCharge?: Metric<number>;
  xevChargeStationPowerType?: Metric<'AC_BASIC' | 'DC_FAST' | 'UNKNOWN'>;
  position?: Metric<{ location: { lat: number; lon: number; alt: number }; gpsDimension: 'DIM_3D'; gpsCoordinateMethod: 'ACTUAL' }> & { gpsModuleTimestamp: string };
  heading?: Metric<{ heading: number; detectionType: 'HEADING_RAW_GNSS' }>;
  speed?: Metric<number>;
  compassDirection?: Metric<string>;
}

export interface TelemetryBody {
  updateTime: string;
  deviceId: string;
  vehicleId: string;
  vin: string;
  metrics: TelemetryMetrics;
}

type ChargeDisplayStatus = 'NOT_PLUGGED_IN' | 'IN_PROGRESS' | 'PAUSED' | 'COMPLETED' | 'NOT_READY' | 'SCHEDULED' | 'STOPPED';

/** Metrics only the location category opens (also the ones the kit keeps out of a status). */
export const LOCATION_METRIC_NAMES = ['position', 'heading', 'speed', 'compassDirection'] as const;
/** Metrics that report on their own slow schedule: days older than the rest (ford-api.md: "show its age"). */
export const STALE_METRIC_NAMES = ['tirePressure', 'tirePressureStatus', 'batteryStateOfCharge', 'batteryVoltage'] as const;

const DAY_MS = 86_400_000;
const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** A version-4-shaped UUID fixed by the text: stable per vehicle, unrelated to FordConnect v1's id. */
function uuidOf(text: string): string {
  const h = digest(text).toString('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function queryVehicleId(v: Vehicle): string {
  return uuidOf(`fcon-query vehicle ${v.id}`);
}

/**
 * When a slow metric last reported before `reportAt`: every 2 to 6 days
 * (per vehicle, metric and seed), and never less than a day behind the
 * rest. Deterministic, and stable between reads until its next report.
 */
export function staleUpdateTime(seed: number, vehicleId: string, metric: string, reportAt: number): number {
  const h = digest(`${seed}:${vehicleId}:${metric}`);
  const period = (2 + (h[0] % 5)) * DAY_MS;
  const phase = h.readUInt32BE(1) % period;
  const lag = DAY_MS + (h.readUInt32BE(5) % DAY_MS);
  const t = reportAt - lag;
  return Math.floor((t - phase) / period) * period + phase;
}

/** Ford's garage calls the Mach-E a BEV; the older documentation's `EV` is FordConnect v1's word only. */
function queryEngineType(v: Vehicle): string {
  return v.engineType === 'EV' ? 'BEV' : v.engineType;
}

export interface GarageBody {
  vin: string;
  nickName: string;
  vehicleType: string;
  color: string;
  modelName: string;
  modelCode: string;
  modelYear: string;
  make: string;
  engineType: string;
  tcuEnabled: 0 | 1;
  ngSdnManaged: 0 | 1;
  vehicleAuthorizationIndicator: 0 | 1;
}

export function garageBody(v: Vehicle): GarageBody {
  return {
    vin: v.vin,
    nickName: v.nickName,
    vehicleType: `${v.modelYear} ${v.modelName}`,
    color: v.color.toUpperCase(),
    modelName: v.modelName,
    // Ford's model codes are four characters ("VLC7"); the VIN's line and body characters make a stable one.
    modelCode: v.vin.slice(4, 8),
    modelYear: String(v.modelYear),
    make: v.make,
    engineType: queryEngineType(v),
    tcuEnabled: 1,
    ngSdnManaged: 1,
    vehicleAuthorizationIndicator: 1,
  };
}

const DOORS: Partial<Record<DoorName, DoorQualifiers>> = {
  DRIVER: { vehicleDoor: 'UNSPECIFIED_FRONT', vehicleOccupantRole: 'DRIVER', vehicleSide: 'DRIVER' },
  PASSENGER: { vehicleDoor: 'UNSPECIFIED_FRONT', vehicleOccupantRole: 'PASSENGER', vehicleSide: 'PASSENGER' },
  REAR_LEFT: { vehicleDoor: 'REAR_LEFT', vehicleOccupantRole: 'PASSENGER', vehicleSide: 'DRIVER' },
  REAR_RIGHT: { vehicleDoor: 'REAR_RIGHT', vehicleOccupantRole: 'PASSENGER', vehicleSide: 'PASSENGER' },
  TAILGATE: { vehicleDoor: 'TAILGATE' },
  INNER_TAILGATE: { vehicleDoor: 'INNER_TAILGATE' },
};

/** Windows by side, as Ford's telemetry names them (rear ones UNSPECIFIED_REAR with a side). */
const WINDOWS: Partial<Record<DoorName, WindowQualifiers>> = {
  DRIVER: { vehicleWindow: 'UNSPECIFIED_FRONT', vehicleOccupantRole: 'DRIVER', vehicleSide: 'DRIVER' },
  PASSENGER: { vehicleWindow: 'UNSPECIFIED_FRONT', vehicleOccupantRole: 'PASSENGER', vehicleSide: 'PASSENGER' },
  REAR_LEFT: { vehicleWindow: 'UNSPECIFIED_REAR', vehicleOccupantRole: 'PASSENGER', vehicleSide: 'DRIVER' },
  REAR_RIGHT: { vehicleWindow: 'UNSPECIFIED_REAR', vehicleOccupantRole: 'PASSENGER', vehicleSide: 'PASSENGER' },
};

const WHEELS: readonly Wheel[] = ['FRONT_LEFT', 'FRONT_RIGHT', 'REAR_LEFT', 'REAR_RIGHT'];
/** Below this share of the placard pressure a tyre is LOW (FordConnect v1's tirePressureWarning uses the same). */
const LOW_TYRE = 0.85;

function chargeDisplayStatus(v: Vehicle, status: ChargingStatus): ChargeDisplayStatus {
  switch (status) {
    case 'EvseNotDetected':
      return 'NOT_PLUGGED_IN';
    case 'ChargingAC':
    case 'ChargingDC':
      return 'IN_PROGRESS';
    case 'EvsePaused':
      return 'PAUSED';
    case 'ChargeTargetReached':
      return 'COMPLETED';
    case 'NotReady':
      return 'NOT_READY';
    case 'Ready':
      // Plugged and waiting: for the schedule when there is one, else simply not charging.
      return (v.spec.chargeSchedules?.length ?? 0) > 0 ? 'SCHEDULED' : 'STOPPED';
  }
}

/** Ford's upper-case eight-point spelling of FordConnect v1's `direction`. */
function compass(view: VehicleView): string {
  return view.direction.toUpperCase();
}

/** Michigan lies 170 to 250 m above sea level; each vehicle keeps its own altitude. */
function altitude(v: Vehicle): number {
  return round(175 + (digest(`altitude ${v.id}`).readUInt16BE(0) % 600) / 10, 1);
}

/**
 * The telemetry of one vehicle for one grant: what its modem last reported
 * (stale while offline, as on FordConnect v1), only metrics the vehicle has
 * and the grant's categories open.
 */
export function telemetryBody(v: Vehicle, grant: Grant, seed: number): TelemetryBody {
  const { at, view } = v.reported();
  const updateTime = isoTimestamp(at);
  const m: TelemetryMetrics = {};
  const metric = <T>(value: T): Metric<T> => ({ updateTime, value });
  const stale = <T>(name: (typeof STALE_METRIC_NAMES)[number], value: T): Metric<T> => ({ updateTime: isoTimestamp(staleUpdateTime(seed, v.id, name, at)), value });

  if (hasCategory(grant, 'status')) {
    const lock: LockValue = view.locked ? 'LOCKED' : 'UNLOCKED';
    m.doorLockStatus = [...(v.spec.doors.includes('DRIVER') ? [{ ...metric(lock), ...(DOORS.DRIVER as DoorQualifiers) }] : []), { ...metric(lock), vehicleDoor: 'ALL_DOORS' as const }];
    m.doorStatus = view.doors.flatMap((d) => {
      const q = DOORS[d.name];
      return q ? [{ ...metric<OpenValue>(d.open ? 'AJAR' : 'CLOSED'), ...q }] : [];
    });
    const hood = view.doors.find((d) => d.name === 'HOOD_DOOR');
    if (hood) m.hoodStatus = metric<OpenValue>(hood.open ? 'AJAR' : 'CLOSED');
    // The simulated vehicles' windows stay shut: 0/0 is Ford's "closed".
    m.windowStatus = v.spec.doors.flatMap((d) => {
      const q = WINDOWS[d];
      return q ? [{ ...metric({ doubleRange: { lowerBound: 0, upperBound: 0 } }), ...q }] : [];
    });
    const nominal = v.spec.nominalTirePressureKpa;
    const pressureTime = stale('tirePressure', 0).updateTime;
    const statusTime = stale('tirePressureStatus', 0).updateTime;
    m.tirePressure = WHEELS.map((wheel, i) => ({ updateTime: pressureTime, value: round(view.tirePressureKpa[i], 1), vehicleWheel: wheel, wheelPlacardFront: nominal, wheelPlacardRear: nominal }));
    m.tirePressureStatus = WHEELS.map((wheel, i) => ({ updateTime: statusTime, value: view.tirePressureKpa[i] < nominal * LOW_TYRE ? ('LOW' as const) : ('NORMAL' as const), vehicleWheel: wheel }));
    m.odometer = metric(round(view.odometerKm, 1));
    m.ignitionStatus = metric(view.ignitionOn ? 'ON' : 'OFF');
    m.alarmStatus = metric(view.alarmSet ? 'ARMED' : 'DISARMED');
    m.panicAlarmStatus = metric('INACTIVE');
    // Seconds left, as the working clients read it.
    m.remoteStartCountdownTimer = metric(view.engineRunning ? view.remoteStartMinutesLeft * 60 : 0);
    m.remoteStartDeviceStatus = metric(view.engineRunning ? 'RUNNING' : 'SHUTDOWN');
    m.batteryStateOfCharge = { ...stale('batteryStateOfCharge', round(view.battery12VPercent, 1)), vehicleBattery: 'PRIMARY_BATTERY' };
    m.batteryVoltage = { ...stale('batteryVoltage', view.battery12VVoltage), vehicleBattery: 'PRIMARY_BATTERY' };
    if (hasTank(v.spec) && view.fuelPercent !== null) {
      m.fuelLevel = metric(round(view.fuelPercent, 2));
      // No estimate is no metric: Ford sends only what it has, never a made-up zero.
      if (view.fuelRangeKm !== null && view.fuelRangeKm !== undefined) m.fuelRange = metric(round(view.fuelRangeKm, 1));
    }
  }

  if (hasCategory(grant, 'evData') && hasTractionBattery(v.spec) && view.batteryPercent !== null) {
    m.xevBatteryStateOfCharge = metric(round(view.batteryPercent, 2));
    if (view.batteryRangeKm !== null && view.batteryRangeKm !== undefined) m.xevBatteryRange = metric(round(view.batteryRangeKm, 1));
    if (canCharge(v.spec)) {
      m.xevPlugChargerStatus = metric(view.plugged ? 'CONNECTED' : 'DISCONNECTED');
      m.xevBatteryChargeDisplayStatus = {
        ...metric(chargeDisplayStatus(v, view.chargingStatus)),
        ...(view.plugged ? { xevChargerPowerType: view.chargerType } : {}),
        xevBatteryType: 'HIGH_VOLTAGE',
      };
      const toFull = view.charging && view.chargeEndAt !== null ? Math.max(0, Math.round((view.chargeEndAt - at) / 60_000)) : 0;
      m.xevBatteryTimeToFullCharge = metric(toFull);
      m.xevChargeStationPowerType = metric(view.plugged ? (view.chargerType === 'DC' ? 'DC_FAST' : 'AC_BASIC') : 'UNKNOWN');
    }
  }

  if (hasCategory(grant, 'location')) {
    // The same point FordConnect v1 gives (its strings carry six decimals).
    m.position = {
      ...metric({ location: { lat: Number(view.lat.toFixed(6)), lon: Number(view.lon.toFixed(6)), alt: altitude(v) }, gpsDimension: 'DIM_3D' as const, gpsCoordinateMethod: 'ACTUAL' as const }),
      gpsModuleTimestamp: updateTime,
    };
    m.heading = metric({ heading: round(view.headingDeg, 1), detectionType: 'HEADING_RAW_GNSS' as const });
    m.speed = metric(round(view.speedKph, 1));
    m.compassDirection = metric(compass(view));
  }

  return { updateTime, deviceId: uuidOf(`fcon-query device ${v.id}`), vehicleId: queryVehicleId(v), vin: v.vin, metrics: m };
}

/** The charge location's coordinates only with the location category: a home address is location data. */
export function chargeSchedulesBody(v: Vehicle, withLocation: boolean): Record<string, unknown> {
  const schedules = v.spec.chargeSchedules ?? [];
  const home = v.spec.route.at(0);
  return {
    chargeSchedules: [
      {
        vin: v.vin,
        location: {
          id: 1,
          name: 'Home',
          type: 'SAVED',
          ...(withLocation ? { latitude: Number(home.lat.toFixed(6)), longitude: Number(home.lon.toFixed(6)) } : {}),
          timeZoneOffset: 'UTC+00:00',
        },
        chargeProfile: {
          chargeMode: schedules.length > 0 ? 'VALUE_CHARGE' : 'CHARGE_NOW',
          targetSoc: Math.round(v.state.chargeTargetPercent),
          schedules: schedules.map((s) => ({ days: s.days, windows: s.chargeWindows.map((w) => ({ startTime: w.startTime, endTime: w.endTime })) })),
        },
      },
    ],
  };
}

const PRECONDITIONING: Record<DepartureTime['preConditioningSetting'], 'High' | 'Medium' | 'Low' | 'Off'> = { WARM: 'High', MEDIUM: 'Medium', COOL: 'Low', OFF: 'Off' };

/** ISO weekday, Monday 1 … Sunday 7 (the simulator's reading of Ford's `calendarDay`). */
function isoWeekday(day: DepartureTime['dayOfWeek']): number {
  return ((DAYS_OF_WEEK.indexOf(day) + 6) % 7) + 1;
}

/** The same departures as FordConnect v1's departureTimes, every one of them, grouped by day. */
export function departureTimesBody(v: Vehicle): Record<string, unknown> {
  const times = v.spec.departureTimes ?? [];
  const byDay = new Map<number, Record<string, unknown>[]>();
  times.forEach((t, i) => {
    const [hr, min] = t.time.split(':').map(Number);
    const day = isoWeekday(t.dayOfWeek);
    byDay.set(day, [...(byDay.get(day) ?? []), { scheduleId: i + 1, hr, min, preConditioningTemp: PRECONDITIONING[t.preConditioningSetting] }]);
  });
  return {
    departureTimes: {
      vin: v.vin,
      isDepartureTimesEnabled: times.length > 0,
      isSrsEnabled: false,
      timeZoneId: 'UTC',
      goTimesScheduleCloudData: {
        calendarDaysList: [...byDay.entries()].sort(([a], [b]) => a - b).map(([calendarDay, scheduleFromCloudList]) => ({ calendarDay, scheduleFromCloudList })),
      },
    },
  };
}

interface ActiveAlert {
  Headline: string;
  Body: { whatIsHappening: string; whatShouldIdo: string };
  FormattedBody: string;
  Metadata: { categoryId: number; categoryName: string; displaySequence: number; severity: number; wilCode: string };
}

const WHEEL_WORDS = ['front left', 'front right', 'rear left', 'rear right'];

/** Health alerts from the last report: under-inflated tyres, low fuel or charge, a weak 12 V battery, deep sleep. */
export function healthAlertsBody(v: Vehicle): Record<string, unknown> {
  const { at, view } = v.reported();
  const found: Omit<ActiveAlert, 'FormattedBody' | 'Metadata'>[] = [];
  const meta: Omit<ActiveAlert['Metadata'], 'displaySequence'>[] = [];
  const add = (headline: string, happening: string, todo: string, categoryId: number, categoryName: string, wilCode: string, severity = 2): void => {
    found.push({ Headline: headline, Body: { whatIsHappening: happening, whatShouldIdo: todo } });
    meta.push({ categoryId, categoryName, severity, wilCode });
  };
  const nominal = v.spec.nominalTirePressureKpa;
  const low = view.tirePressureKpa.map((p, i) => ({ p, wheel: WHEEL_WORDS[i] })).filter((t) => t.p < nominal * LOW_TYRE);
  if (low.length > 0) {
    add(
      'Tire Pressure Low',
      `Low pressure in the ${low.map((t) => `${t.wheel} tire (${Math.round(t.p)} kPa)`).join(', ')}; ${nominal} kPa is recommended.`,
      'Check the tires for damage and inflate them to the pressure on the tire placard as soon as possible.',
      3,
      'Tires',
      'TPMS',
    );
  }
  if (hasTank(v.spec) && view.fuelPercent !== null && view.fuelPercent < 12) {
    add('Low Fuel Level', `The fuel level is ${Math.round(view.fuelPercent)} %.`, 'Refuel soon.', 5, 'Fuel', 'LOW_FUEL');
  }
  if (canCharge(v.spec) && view.batteryPercent !== null && view.batteryPercent < 15) {
    add('Low High Voltage Battery Charge', `The high voltage battery is at ${Math.round(view.batteryPercent)} %.`, 'Plug the vehicle in to charge soon.', 6, 'High Voltage Battery', 'HV_BATTERY_LOW');
  }
  if (view.battery12VPercent < 50) {
    add('12V Battery Charge Low', `The 12 V battery is at ${Math.round(view.battery12VPercent)} %.`, 'Drive the vehicle or charge the 12 V battery; remote features may stop working.', 4, 'Electrical', 'BATTERY', view.deepSleep ? 3 : 2);
  }
  if (view.deepSleep) {
    add('Deep Sleep Mode Active', 'The vehicle switched its modem off to protect the 12 V battery.', 'Start the vehicle to leave deep sleep.', 4, 'Electrical', 'DEEP_SLEEP', 3);
  }
  const alerts: ActiveAlert[] = found.map((a, i) => ({ ...a, FormattedBody: `${a.Body.whatIsHappening} ${a.Body.whatShouldIdo}`, Metadata: { ...meta[i], displaySequence: i + 1 } }));
  return {
    message: 'Success',
    status: 2000,
    version: '1.0',
    VehicleAlertList: [
      {
        ActiveAlerts: alerts,
        ActivityId: uuidOf(`fcon-query alerts ${v.id} ${at}`),
        EventTimeStamp: isoTimestamp(at),
        // Ford's own example: a vehicle with nothing to report says 4040 "No Data".
        StatusCode: alerts.length > 0 ? 2000 : 4040,
        StatusDesc: alerts.length > 0 ? 'Success' : 'No Data',
        Vin: v.vin,
      },
    ],
  };
}
