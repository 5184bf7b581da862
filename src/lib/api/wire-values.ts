/**
 * Forgiving readers for Ford's JSON: a value of the wrong type reads as
 * undefined (absent), never as zero or an empty string. Shared by the
 * status mappers of both APIs.
 */

export type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: unknown): Obj | undefined {
  return isObject(v) ? v : undefined;
}

/** A non-blank string, trimmed. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

export function upper(v: unknown): string | undefined {
  return str(v)?.toUpperCase();
}

const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A finite number, from a number or a numeric string (Ford sends coordinates as strings). */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && NUMERIC.test(v.trim())) {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function nonNegative(v: unknown): number | undefined {
  const n = num(v);
  return n === undefined || n < 0 ? undefined : n;
}

/** A boolean, or the strings `true` / `false`. */
export function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  return undefined;
}

export function clampPercent(n: number): number {
  return Math.min(100, Math.max(0, n));
}

const FORD_TIME = /^(\d{2})-(\d{2})-(\d{4})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const ZONE = /(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Ford's timestamps as ISO 8601 UTC: `MM-DD-YYYY HH:mm:ss` (UTC, as Ford's
 * status values carry it), ISO 8601 with a zone, or ISO without one (read as
 * UTC). Anything else, or an impossible date such as 02-31, is undefined.
 */
export function normaliseTimestamp(v: unknown): string | undefined {
  const s = str(v);
  if (!s) return undefined;
  const ford = FORD_TIME.exec(s);
  if (ford) {
    const [, mm, dd, yyyy, hh, mi, ss, frac] = ford;
    return validIso(`${yyyy}-${mm}-${dd}T${hh}:${mi}:${ss}${frac ?? ''}Z`, Number(yyyy), Number(mm), Number(dd));
  }
  if (ISO_TIME.test(s)) {
    const [y, m, d] = s.slice(0, 10).split('-').map(Number);
    return validIso(ZONE.test(s) ? s : `${s}Z`, y, m, d);
  }
  return undefined;
}

function validIso(text: string, y: number, m: number, d: number): string | undefined {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 02-31 over to 03-03: the calendar date must survive as written.
  const check = new Date(Date.UTC(y, m - 1, d));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return undefined;
  return new Date(ms).toISOString();
}

/** The latest of some ISO 8601 UTC strings (they sort as text). */
export function newest(times: readonly (string | undefined)[]): string | undefined {
  let best: string | undefined;
  for (const t of times) if (t !== undefined && (best === undefined || t > best)) best = t;
  return best;
}

/** Sets `key` only when `value` is defined, so absent stays absent. */
export function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

export function nonEmpty<T extends object>(o: T): T | undefined {
  return Object.keys(o).length > 0 ? o : undefined;
}
