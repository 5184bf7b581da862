import type { FaultSettings } from './control/faults';
import type { RateLimitSettings } from './surfaces/rate-limiter';

export interface SimOptions {
  /** Interface to listen on; loopback unless asked otherwise. */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Seed for ids, fault draws and command outcomes. */
  seed: number;
  /** Simulated seconds per wall-clock second. */
  timeScale: number;
  /** Simulated time at start, epoch ms; defaults to now. */
  startTime?: number;
  accessTokenSeconds: number;
  refreshTokenSeconds: number;
  authorizationCodeSeconds: number;
  /** Simulated ms a command stays PENDINGRESPONSE before the vehicle answers. */
  commandDelayMs: number;
  /** Minutes an engine runs after a remote start before it turns itself off. */
  remoteStartMinutes: number;
  /** Simulated ms a command id stays readable. */
  commandIdTtlMs: number;
  /**
   * Key mixed into command ids. Unset (the default): a random key each run,
   * so no app can guess another app's command ids, not even knowing the seed.
   * Set it only where the same seed must give the same ids (tests).
   */
  commandIdSecret?: string;
  rateLimits: RateLimitSettings;
  faults: Partial<FaultSettings>;
  /** The demo app registered at start, so the kit can connect without set-up. */
  demoClient: { id: string; secret: string; redirectUris: string[] };
  /** The demo fleet app (client credentials). */
  fleetClient: { id: string; secret: string };
  /** Log one line per request (never tokens or secrets). */
  logRequests: boolean;
  /**
   * Proxies whose X-Forwarded-For names the caller (express `trust proxy`:
   * addresses, CIDR ranges, `loopback`, `linklocal`, `uniquelocal`, comma-separated).
   * Unset (the default): none, so a caller is its socket address and cannot
   * talk its way past an IP allow-list with a header.
   */
  trustProxy?: string;
}

export const DEFAULT_REDIRECT_URIS = [
  'http://127.0.0.1:1880/ford-connect/auth/callback',
  'http://localhost:1880/ford-connect/auth/callback',
  'https://localhost:3000',
];

export function defaultOptions(): SimOptions {
  return {
    host: '127.0.0.1',
    port: 8370,
    seed: 1,
    timeScale: 1,
    accessTokenSeconds: 1200,
    refreshTokenSeconds: 90 * 24 * 3600,
    authorizationCodeSeconds: 300,
    commandDelayMs: 4000,
    remoteStartMinutes: 10,
    commandIdTtlMs: 120_000,
    rateLimits: { perClientPerMinute: 120, perVehiclePerMinute: 30 },
    faults: {},
    demoClient: { id: 'demo-client', secret: 'demo-secret', redirectUris: [...DEFAULT_REDIRECT_URIS] },
    fleetClient: { id: 'fleet-client', secret: 'fleet-secret' },
    logRequests: false,
  };
}

/** Deep enough merge for our two-level options. */
export function resolveOptions(partial: Partial<SimOptions> = {}): SimOptions {
  const base = defaultOptions();
  return {
    ...base,
    ...partial,
    rateLimits: { ...base.rateLimits, ...partial.rateLimits },
    faults: { ...base.faults, ...partial.faults },
    demoClient: { ...base.demoClient, ...partial.demoClient },
    fleetClient: { ...base.fleetClient, ...partial.fleetClient },
  };
}
