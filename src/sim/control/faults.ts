/**
 * Faults a test or a demo can switch on: the ways the real API misbehaves.
 * Rates are probabilities per API request, drawn from the seeded generator.
 */
export interface FaultSettings {
  /** Added delay before every API answer, in wall-clock ms. */
  latencyMs: number;
  /** Share of API requests answered 503. */
  errorRate: number;
  /** Share of API requests answered 429 with Retry-After. */
  rateLimitRate: number;
  /** Retry-After seconds sent with injected and real 429s. */
  retryAfterSeconds: number;
  /** Vehicles whose modem does not answer: commands fail, reads show stale data. */
  offlineVehicles: string[];
  /**
   * RFC 9470 step-up: unlock and remote start refuse a token whose owner
   * sign-in (auth_time) is older than this many simulated seconds. 0 = off.
   * A whole number, as it goes out verbatim as the challenge's max_age.
   */
  stepUpMaxAgeSeconds: number;
  /**
   * FordConnect Query only: share of requests (with a valid token) answered
   * 401 with an HTML page and no WWW-Authenticate, as Ford's gateway sometimes does.
   */
  html401Rate: number;
  /** FordConnect Query only: share of requests answered 429 `{ errorCode, errorMessage }` without a Retry-After. */
  rateLimitNoRetryAfterRate: number;
  /**
   * A spoilt body on successful vehicle API answers (both surfaces; the
   * request itself is carried out: a command reaches the vehicle):
   * `truncated` JSON cut off half-way, `non-json` a plain-text `OK`, `html` a
   * gateway's 502 error page instead of the answer, `wrong-types` every value
   * of a type no field takes (strings become `true`, numbers and booleans
   * `"n/a"`), `missing-fields` nothing but `status`. `none`: off.
   */
  bodyFault: BodyFault;
  /** Share of successful API answers the body fault spoils (default 1: every one). */
  bodyFaultRate: number;
}

export const BODY_FAULTS = ['none', 'truncated', 'non-json', 'html', 'wrong-types', 'missing-fields'] as const;
export type BodyFault = (typeof BODY_FAULTS)[number];

export function defaultFaults(): FaultSettings {
  return { latencyMs: 0, errorRate: 0, rateLimitRate: 0, retryAfterSeconds: 30, offlineVehicles: [], stepUpMaxAgeSeconds: 0, html401Rate: 0, rateLimitNoRetryAfterRate: 0, bodyFault: 'none', bodyFaultRate: 1 };
}

const NUMERIC: (keyof FaultSettings)[] = ['latencyMs', 'errorRate', 'rateLimitRate', 'retryAfterSeconds', 'stepUpMaxAgeSeconds', 'html401Rate', 'rateLimitNoRetryAfterRate', 'bodyFaultRate'];
const RATES = new Set<keyof FaultSettings>(['errorRate', 'rateLimitRate', 'html401Rate', 'rateLimitNoRetryAfterRate', 'bodyFaultRate']);
/** RFC 9470's max_age is a whole number of seconds. */
const WHOLE = new Set<keyof FaultSettings>(['stepUpMaxAgeSeconds']);

/** Applies a partial update, refusing values that make no sense; returns the error text or undefined. */
export function applyFaults(target: FaultSettings, patch: unknown): string | undefined {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return 'body must be a JSON object';
  const next = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if ((NUMERIC as string[]).includes(key)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return `${key} must be a non-negative number`;
      if (RATES.has(key as keyof FaultSettings) && value > 1) return `${key} must be between 0 and 1`;
      if (WHOLE.has(key as keyof FaultSettings) && !Number.isSafeInteger(value)) return `${key} must be a whole number of seconds (0 = off)`;
      (next as Record<string, unknown>)[key] = value;
    } else if (key === 'offlineVehicles') {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return 'offlineVehicles must be an array of vehicle ids';
      next.offlineVehicles = [...value];
    } else if (key === 'bodyFault') {
      if (!(BODY_FAULTS as readonly unknown[]).includes(value)) return `bodyFault must be one of ${BODY_FAULTS.join(', ')}`;
      next.bodyFault = value as BodyFault;
    } else {
      return `unknown fault: ${key}`;
    }
  }
  Object.assign(target, next);
  return undefined;
}
