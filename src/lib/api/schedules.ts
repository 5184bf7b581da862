import { ApiError } from './errors';
import { bool, obj, upper } from './wire-values';

/**
 * The documented charge-schedule object of `ford-charge` (its `msg.payload`
 * for `msg.topic = "schedules"`), and the mappers from Ford's wire formats.
 * Times are the vehicle's `HH:MM`; the next departure is also an ISO 8601 UTC
 * instant; days are lowercase English weekday names.
 */

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface ChargeWindow {
  /** `HH:MM`. */
  start: string;
  /** `HH:MM`; earlier than `start` means the window runs past midnight. */
  end: string;
}

export interface ChargeSchedule {
  days: Weekday[];
  windows: ChargeWindow[];
  /** Charge target of this schedule, percent. */
  targetLevel?: number;
}

export type Preconditioning = 'off' | 'cool' | 'medium' | 'warm';

export interface Departure {
  day: Weekday;
  /** `HH:MM`. */
  time: string;
  /** The next occurrence from now, ISO 8601 UTC. */
  at: string;
  preconditioning?: Preconditioning;
}

export interface ChargeSchedules {
  vehicleId: string;
  schedules: ChargeSchedule[];
  /** Absent when no departure time is set. */
  nextDeparture?: Departure;
}

const DAY_GROUPS: Record<string, Weekday[]> = {
  WEEKDAY: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
  WEEKDAYS: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
  WEEKEND: ['saturday', 'sunday'],
  WEEKENDS: ['saturday', 'sunday'],
  DAILY: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
  EVERYDAY: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
};

/** `WEEKDAY`, `WEEKEND`, `MONDAY`, `["MONDAY","TUESDAY"]` … as weekday names; unknown words are dropped. */
export function weekdays(value: unknown): Weekday[] {
  const words = Array.isArray(value) ? value : [value];
  const out: Weekday[] = [];
  for (const w of words) {
    const word = upper(w);
    if (!word) continue;
    const days = DAY_GROUPS[word] ?? (WEEKDAYS as readonly string[]).filter((d) => d.toUpperCase() === word);
    for (const d of days as Weekday[]) if (!out.includes(d)) out.push(d);
  }
  return out;
}

/** `H:mm`, `HH:mm:ss` or hour + minutes as `HH:MM`; undefined when it is not a time. */
export function clockTime(value: unknown, minutes?: unknown): string | undefined {
  let h: number;
  let m: number;
  if (typeof value === 'number') {
    // Minutes that are there but unreadable make no time: a wrong time is worse than none.
    if (minutes !== undefined && minutes !== null && typeof minutes !== 'number') return undefined;
    h = value;
    m = typeof minutes === 'number' ? minutes : 0;
  } else {
    const match = typeof value === 'string' ? /^(\d{1,2}):(\d{2})(?::\d{2})?$/.exec(value.trim()) : null;
    if (!match) return undefined;
    h = Number(match[1]);
    m = Number(match[2]);
  }
  if (!Number.isInteger(h) || !Number.isInteger(m) || h < 0 || h > 23 || m < 0 || m > 59) return undefined;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

function level(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.min(100, n) : undefined;
}

function preconditioning(value: unknown): Preconditioning | undefined {
  const v = upper(value);
  return v === 'OFF' || v === 'COOL' || v === 'MEDIUM' || v === 'WARM' ? (v.toLowerCase() as Preconditioning) : undefined;
}

/**
 * The next time `day` `HH:MM` comes round, from `now`; today counts if it is
 * still ahead. Ford gives the vehicle's local time without a zone: it is read
 * as UTC (the simulator's clock), so on a real car `at` is off by its offset.
 */
export function nextOccurrence(day: Weekday, time: string, now: number): string {
  const [h, m] = time.split(':').map(Number);
  const d = new Date(now);
  const today = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), h, m));
  let ahead = (WEEKDAYS.indexOf(day) - d.getUTCDay() + 7) % 7;
  if (ahead === 0 && today.getTime() <= now) ahead = 7;
  return new Date(today.getTime() + ahead * 86_400_000).toISOString();
}

function mapSchedule(entry: unknown): ChargeSchedule | undefined {
  const s = obj(entry);
  if (!s) return undefined;
  const days = weekdays(s.days ?? s.dayOfWeek ?? s.daysOfWeek);
  const rawWindows = Array.isArray(s.chargeWindows) ? s.chargeWindows : Array.isArray(s.windows) ? s.windows : [];
  const windows: ChargeWindow[] = [];
  for (const w of rawWindows) {
    const start = clockTime(obj(w)?.startTime ?? obj(w)?.start);
    const end = clockTime(obj(w)?.endTime ?? obj(w)?.end);
    if (start && end) windows.push({ start, end });
  }
  if (days.length === 0 || windows.length === 0) return undefined;
  const schedule: ChargeSchedule = { days, windows };
  const target = level(s.desiredChargeLevel ?? s.targetLevel ?? s.chargeLevel);
  if (target !== undefined) schedule.targetLevel = target;
  return schedule;
}

/** FordConnect v1 `chargeSchedules` and `departureTimes` bodies into the documented object. */
export function mapFordConnectV1Schedules(vehicleId: string, schedulesBody: unknown, departuresBody: unknown, now: number): ChargeSchedules {
  const list = obj(schedulesBody)?.chargeSchedules;
  if (!Array.isArray(list)) throw new ApiError('bad-response', 'the charge schedules answer has no chargeSchedules list');
  const out: ChargeSchedules = { vehicleId, schedules: list.map(mapSchedule).filter((s): s is ChargeSchedule => s !== undefined) };
  const departure = departureOf(obj(departuresBody)?.departureTimes, now);
  if (departure) out.nextDeparture = departure;
  return out;
}

/** One departure entry (or the soonest of a list): `{ dayOfWeek, hour, minutes | time, enabled, preConditioningSetting }`. */
export function departureOf(value: unknown, now: number): Departure | undefined {
  const entries = Array.isArray(value) ? value : [value];
  let best: Departure | undefined;
  for (const entry of entries) {
    const d = obj(entry);
    if (!d || bool(d.enabled) === false) continue;
    const day = weekdays(d.dayOfWeek ?? d.day)[0];
    const time = clockTime(d.hour ?? d.time ?? d.departureTime, d.minutes ?? d.minute);
    if (!day || !time) continue;
    const candidate: Departure = { day, time, at: nextOccurrence(day, time, now) };
    const pre = preconditioning(d.preConditioningSetting ?? d.preconditioning);
    if (pre) candidate.preconditioning = pre;
    if (!best || candidate.at < best.at) best = candidate;
  }
  return best;
}

/** ISO weekday (Ford's `calendarDay`: Monday 1 … Sunday 7) as a weekday name. */
function isoWeekday(value: unknown): Weekday | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 7 ? WEEKDAYS[value % 7] : undefined;
}

/** FordConnect Query names preconditioning by strength. */
const QUERY_PRECONDITIONING: Record<string, Preconditioning> = { HIGH: 'warm', MEDIUM: 'medium', LOW: 'cool', OFF: 'off' };

/**
 * FordConnect Query's `electric/charge-schedules` (`{ chargeSchedules: [{ chargeProfile: { targetSoc,
 * schedules: [{ days, windows }] } }] }`) and `electric/departure-times` (`{ departureTimes:
 * { isDepartureTimesEnabled, goTimesScheduleCloudData: { calendarDaysList: [{ calendarDay,
 * scheduleFromCloudList: [{ hr, min, preConditioningTemp }] }] } } }`). The charge location's
 * coordinates never leave: they are location data.
 */
export function mapFconQuerySchedules(vehicleId: string, schedulesBody: unknown, departuresBody: unknown, now: number): ChargeSchedules {
  const list = obj(schedulesBody)?.chargeSchedules;
  if (!Array.isArray(list)) throw new ApiError('bad-response', 'GET /v1/electric/charge-schedules: the answer has no chargeSchedules list');
  const schedules: ChargeSchedule[] = [];
  for (const entry of list) {
    const profile = obj(obj(entry)?.chargeProfile);
    if (!profile || !Array.isArray(profile.schedules)) continue;
    for (const raw of profile.schedules) {
      const mapped = mapSchedule({ ...(obj(raw) ?? {}), desiredChargeLevel: profile.targetSoc });
      if (mapped) schedules.push(mapped);
    }
  }
  const out: ChargeSchedules = { vehicleId, schedules };
  const d = obj(obj(departuresBody)?.departureTimes);
  const days = obj(d?.goTimesScheduleCloudData)?.calendarDaysList;
  if (d && bool(d.isDepartureTimesEnabled) !== false && Array.isArray(days)) {
    const entries: Record<string, unknown>[] = [];
    for (const day of days) {
      const name = isoWeekday(obj(day)?.calendarDay);
      const times = obj(day)?.scheduleFromCloudList;
      if (!name || !Array.isArray(times)) continue;
      for (const t of times) {
        const time = obj(t);
        if (time) entries.push({ dayOfWeek: name, hour: time.hr, minutes: time.min, preConditioningSetting: QUERY_PRECONDITIONING[upper(time.preConditioningTemp) ?? ''] });
      }
    }
    const departure = departureOf(entries, now);
    if (departure) out.nextDeparture = departure;
  }
  return out;
}
