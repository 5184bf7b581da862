import { SimClock } from './clock';
import { SeededRandom } from './random';
import { OAuthStore } from './oauth/store';
import { allScopeNames } from './oauth/scopes';
import { AuditLog } from './owner/audit-log';
import { Alerts } from './owner/alerts';
import { defaultFaults, type FaultSettings } from './control/faults';
import { RequestCounts } from './control/request-counts';
import { RateLimiter } from './surfaces/rate-limiter';
import { Fleet } from './vehicles/fleet';
import { seedFleet } from './vehicles/seed-fleet';
import type { SimOptions } from './options';
import { Sessions } from './owner/session';

/** Demo accounts, printed on start so a person can sign in on the consent page. */
export const DEMO_OWNERS = [
  { id: 'owner-1', email: 'owner@example.com', password: 'demo', name: 'Alex Owner' },
  { id: 'owner-2', email: 'partner@example.com', password: 'demo', name: 'Sam Partner' },
  { id: 'owner-fleet', email: 'fleet@example.com', password: 'demo', name: 'Example Fleet Ltd' },
];

/** Everything the simulator knows, shared by its routes. One vehicle exists once, seen by every surface. */
export class World {
  readonly clock: SimClock;
  readonly random: SeededRandom;
  readonly store: OAuthStore;
  readonly fleet: Fleet;
  readonly audit: AuditLog;
  readonly alerts: Alerts;
  readonly faults: FaultSettings;
  readonly counts = new RequestCounts();
  readonly rateLimiter: RateLimiter;
  readonly sessions: Sessions;

  constructor(readonly options: SimOptions) {
    this.clock = new SimClock(options.timeScale, options.startTime ?? Date.now());
    this.random = new SeededRandom(options.seed);
    this.sessions = new Sessions(this.clock);
    this.store = new OAuthStore(this.clock, {
      accessTokenSeconds: options.accessTokenSeconds,
      refreshTokenSeconds: options.refreshTokenSeconds,
      authorizationCodeSeconds: options.authorizationCodeSeconds,
    });
    this.audit = new AuditLog(this.clock);
    this.alerts = new Alerts(this.clock);
    this.faults = { ...defaultFaults(), ...options.faults };
    this.rateLimiter = new RateLimiter(this.clock, { ...options.rateLimits });
    this.fleet = new Fleet(this.clock, this.random, {
      commandDelayMs: options.commandDelayMs,
      remoteStartMinutes: options.remoteStartMinutes,
      commandIdTtlMs: options.commandIdTtlMs,
      isOffline: (vehicleId) => this.faults.offlineVehicles.includes(vehicleId),
      ...(options.commandIdSecret !== undefined ? { commandIdKey: options.commandIdSecret } : {}),
    });

    for (const owner of DEMO_OWNERS) this.store.addOwner({ ...owner });
    seedFleet(this.fleet, { owner: 'owner-1', partner: 'owner-2', fleet: 'owner-fleet' });

    this.store.addClient({
      id: options.demoClient.id,
      secret: options.demoClient.secret,
      name: 'Node-RED Ford Connect (demo app)',
      redirectUris: [...options.demoClient.redirectUris],
      grants: ['authorization_code', 'refresh_token'],
    });
    this.store.addClient({
      id: options.fleetClient.id,
      secret: options.fleetClient.secret,
      name: 'Fleet gateway (demo)',
      redirectUris: [],
      grants: ['client_credentials'],
      fleetOwnerId: 'owner-fleet',
      fleetScopes: allScopeNames(),
    });
  }
}
