import type { Request, RequestHandler, Response } from 'express';
import { isAllowed } from '../ip-allow-list';
import type { AccessTokenRecord, Grant, TokenCheck } from '../oauth/store';
import type { SimAuditEntry } from '../owner/audit-log';
import type { Vehicle } from '../vehicles/vehicle';
import type { World } from '../world';

/**
 * The request pipeline every vehicle API surface shares, in the order a real
 * gateway and API apply it: count, latency, subscription key, bearer token
 * (another API's token counts as unknown), the owner's IP allow-list,
 * injected faults (the shared ones, then the surface's own), rate limits,
 * the vehicle, the scope, then step-up for sensitive commands (RFC 9470): a
 * token that could never do the call is told so first, and only a rightful
 * one is asked for a fresh sign-in. Each surface supplies only its wire
 * shapes (`Refusals`) and its extras (`GuardOptions`).
 */

export type AuditOutcome = SimAuditEntry['outcome'];

export interface Operation {
  /** Request-count key, e.g. `api.vehicle.info`. */
  count: string;
  /** Owner audit action, in DESIGN.md's names (`status.read`, `lock`, …). */
  action: string;
  /** Scope the token needs; undefined: any valid token will do. */
  scope?: string;
  /** Where the vehicle comes from: the path's `:vehicleId`, the grant's one vehicle, or none (a list). */
  vehicle: 'path' | 'grant' | 'none';
  /** Words for audit details, e.g. `vehicle information`. */
  label: string;
  /** Sensitive: with the step-up setting on, the owner's sign-in behind the token must be recent (RFC 9470). */
  stepUp?: boolean;
}

/** The authenticated caller, as a handler sees it. */
export interface Caller {
  token: AccessTokenRecord;
  grant: Grant;
  ownerId: string;
  clientId: string;
  ip: string | undefined;
  scopes: readonly string[];
  /** Resolved, granted and brought up to the simulated clock (unless the operation has none). */
  vehicle?: Vehicle;
  hasScope(scope: string): boolean;
  /** The request's one owner audit record; later calls are ignored. */
  audit(outcome: AuditOutcome, detail: string, httpStatus?: number): void;
}

/** How one surface spells each refusal; the guard sets the standard headers itself. */
export interface Refusals {
  /** Surfaces behind Ford's API gateway check a subscription key first. */
  subscriptionKey?: { header: string; value: string; write(res: Response, missing: boolean): void };
  invalidToken(res: Response, description: string): void;
  ipBlocked(res: Response): void;
  unavailable(res: Response): void;
  rateLimited(res: Response, retryAfterSeconds: number, description: string): void;
  badVehicleId(res: Response): void;
  unknownVehicle(res: Response): void;
  vehicleNotGranted(res: Response): void;
  insufficientScope(res: Response, scope: string, description: string): void;
  insufficientUserAuthentication(res: Response, description: string): void;
}

export type GuardedHandler = (req: Request, res: Response, caller: Caller) => void | Promise<void>;

/** A fault one surface adds to the shared ones (drawn after them, from the same seeded stream). */
export interface SurfaceFault {
  /** Probability per request, read live so /sim/faults can switch it. */
  rate(world: World): number;
  status: number;
  /** Headers and body; the guard has set only the status. */
  write(res: Response): void;
  outcome: AuditOutcome;
  detail: string;
}

/** What one surface adds to the pipeline besides its wire shapes. */
export interface GuardOptions {
  /** Request-count key for every request of the surface; default `api.total` (FordConnect v1). */
  totalCount?: string;
  /** Tokens of other APIs are unknown here (FordConnect Query and v1 are different Ford APIs). */
  acceptsGrant?(grant: Grant): boolean;
  faults?: readonly SurfaceFault[];
}

/** A token of another Ford API: as good as unknown here. */
export const OTHER_API_DESCRIPTION = 'The access token was not issued for this API';

const TOKEN_DESCRIPTIONS: Record<Exclude<TokenCheck, { ok: true }>['reason'], string> = {
  missing: 'No access token: send Authorization: Bearer <access token>',
  unknown: 'The access token is not recognised',
  expired: 'The access token has expired: refresh it',
  revoked: 'The access token was revoked: the owner disconnected this app',
};

export const STEP_UP_DESCRIPTION = 'A recent owner sign-in is required for this command';

const VEHICLE_ID = /^[0-9a-fA-F]{32}$/;
/** One ip-blocked alert per app and address per simulated hour: a blocked script must not bury the owner in alerts. */
const ALERT_EVERY_MS = 3_600_000;
const lastIpAlerts = new WeakMap<World, Map<string, number>>();

export function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  if (!header) return undefined;
  const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return m ? m[1] : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `guard(op, handler)`: a route handler that runs the whole pipeline before `handler`. */
export function createGuard(world: World, refusals: Refusals, options: GuardOptions = {}): (op: Operation, handler: GuardedHandler) => RequestHandler {
  return (op, handler) => async (req, res) => {
    world.counts.increment(options.totalCount ?? 'api.total');
    world.counts.increment(op.count);

    const latency = world.faults.latencyMs;
    if (latency > 0) await sleep(latency);

    const key = refusals.subscriptionKey;
    if (key) {
      const sent = req.get(key.header);
      if (!sent || sent.trim().toLowerCase() !== key.value.toLowerCase()) {
        res.status(401);
        key.write(res, !sent);
        return;
      }
    }

    const bearer = bearerToken(req);
    const check = world.store.checkAccessToken(bearer);
    if (!check.ok) {
      const description = TOKEN_DESCRIPTIONS[check.reason];
      res.status(401).set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${description}"`);
      refusals.invalidToken(res, description);
      // A disconnected app still knocking is the owner's business; an unknown token names no owner.
      const revoked = check.reason === 'revoked' && bearer ? world.store.accessTokens.get(bearer) : undefined;
      if (revoked) {
        world.audit.record({ ownerId: revoked.ownerId, clientId: revoked.clientId, action: op.action, outcome: 'denied', detail: `${op.label}: refused, this app's access was revoked`, ...(req.ip !== undefined ? { ip: req.ip } : {}), httpStatus: 401 });
      }
      return;
    }

    const { record, grant } = check;
    if (options.acceptsGrant && !options.acceptsGrant(grant)) {
      res.status(401).set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${OTHER_API_DESCRIPTION}"`);
      refusals.invalidToken(res, OTHER_API_DESCRIPTION);
      // The owner's own app knocking at the wrong API is the owner's business, as a revoked token is.
      world.audit.record({ ownerId: record.ownerId, clientId: record.clientId, action: op.action, outcome: 'denied', detail: `${op.label}: refused, the token was issued for another Ford API`, ...(req.ip !== undefined ? { ip: req.ip } : {}), httpStatus: 401 });
      return;
    }
    const ip = req.ip;
    // Only a vehicle this grant reaches may be named in the owner's log or spend a vehicle's rate budget.
    const rawId = op.vehicle === 'path' ? String(req.params.vehicleId ?? '') : op.vehicle === 'grant' ? (grant.vehicleIds[0] ?? '') : '';
    const vehicleId = VEHICLE_ID.test(rawId) ? rawId.toLowerCase() : undefined;
    const grantedId = vehicleId !== undefined && grant.vehicleIds.includes(vehicleId) ? vehicleId : undefined;

    let audited = false;
    const audit = (outcome: AuditOutcome, detail: string, httpStatus?: number): void => {
      if (audited) return;
      audited = true;
      world.audit.record({
        ownerId: record.ownerId,
        clientId: record.clientId,
        ...(grantedId !== undefined ? { vehicleId: grantedId } : {}),
        action: op.action,
        outcome,
        detail: `${op.label}: ${detail}`,
        ...(ip !== undefined ? { ip } : {}),
        ...(httpStatus !== undefined ? { httpStatus } : {}),
      });
    };

    if (!isAllowed(grant.ipAllowList, ip)) {
      res.status(403);
      refusals.ipBlocked(res);
      audit('denied', `refused: ${ip ?? 'unknown address'} is not on this app's IP allow-list`, 403);
      raiseIpAlert(world, grant, ip);
      return;
    }

    if (world.random.chance(world.faults.errorRate)) {
      res.status(503);
      refusals.unavailable(res);
      audit('failed', 'service unavailable (injected fault)', 503);
      return;
    }
    if (world.random.chance(world.faults.rateLimitRate)) {
      const seconds = Math.max(0, Math.round(world.faults.retryAfterSeconds));
      res.status(429).set('Retry-After', String(seconds));
      refusals.rateLimited(res, seconds, `Too many requests: retry after ${seconds} s`);
      audit('rate-limited', `rate limited (injected fault), retry after ${seconds} s`, 429);
      return;
    }

    for (const fault of options.faults ?? []) {
      if (!world.random.chance(fault.rate(world))) continue;
      res.status(fault.status);
      fault.write(res);
      audit(fault.outcome, fault.detail, fault.status);
      return;
    }

    const limits = world.rateLimiter.settings;
    const byClient = world.rateLimiter.take(`client:${record.clientId}`, limits.perClientPerMinute);
    const byVehicle = byClient.ok && grantedId !== undefined ? world.rateLimiter.take(`vehicle:${grantedId}`, limits.perVehiclePerMinute) : { ok: true as const };
    const refused = !byClient.ok ? { ...byClient, what: `this app's limit of ${limits.perClientPerMinute} requests a minute` } : !byVehicle.ok ? { ...byVehicle, what: `this vehicle's limit of ${limits.perVehiclePerMinute} requests a minute` } : undefined;
    if (refused) {
      res.status(429).set('Retry-After', String(refused.retryAfterSeconds));
      refusals.rateLimited(res, refused.retryAfterSeconds, `Too many requests: over ${refused.what}; retry after ${refused.retryAfterSeconds} s`);
      audit('rate-limited', `over ${refused.what}`, 429);
      return;
    }

    let vehicle: Vehicle | undefined;
    if (op.vehicle !== 'none') {
      if (vehicleId === undefined && op.vehicle === 'path') {
        res.status(400);
        refusals.badVehicleId(res);
        audit('failed', 'malformed vehicle id', 400);
        return;
      }
      vehicle = vehicleId === undefined ? undefined : world.fleet.get(vehicleId);
      if (!vehicle) {
        res.status(404);
        refusals.unknownVehicle(res);
        audit('failed', 'unknown vehicle', 404);
        return;
      }
      if (grantedId === undefined) {
        res.status(401);
        refusals.vehicleNotGranted(res);
        audit('denied', 'a vehicle this app was not granted', 401);
        return;
      }
    }

    const scopes = record.scopes;
    if (op.scope && !scopes.includes(op.scope)) {
      const description = `This call needs the ${op.scope} scope, which the owner did not grant to this app`;
      res.status(403).set('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${op.scope}", error_description="${description}"`);
      refusals.insufficientScope(res, op.scope, description);
      audit('denied', `refused: needs scope ${op.scope}`, 403);
      return;
    }

    // Read live, so a test or demo can switch it on and off through /sim/faults.
    const maxAge = world.faults.stepUpMaxAgeSeconds;
    if (op.stepUp && maxAge > 0) {
      const ageMs = world.clock.now() - record.authTime;
      if (ageMs > maxAge * 1000) {
        res
          .status(401)
          .set('WWW-Authenticate', `Bearer error="insufficient_user_authentication", error_description="${STEP_UP_DESCRIPTION}", max_age="${maxAge}"`);
        refusals.insufficientUserAuthentication(res, STEP_UP_DESCRIPTION);
        // Nothing reaches the vehicle; the owner sees that an app asked and was sent back for a sign-in.
        audit('denied', `refused: step-up required, the owner's sign-in is ${Math.floor(ageMs / 1000)} s old and this command needs one within ${maxAge} s`, 401);
        return;
      }
    }

    const caller: Caller = {
      token: record,
      grant,
      ownerId: record.ownerId,
      clientId: record.clientId,
      ip,
      scopes,
      vehicle,
      hasScope: (scope) => scopes.includes(scope),
      audit,
    };
    try {
      await handler(req, res, caller);
    } catch (err) {
      audit('failed', 'internal error', 500);
      throw err;
    }
  };
}

function raiseIpAlert(world: World, grant: Grant, ip: string | undefined): void {
  let seen = lastIpAlerts.get(world);
  if (!seen) {
    seen = new Map();
    lastIpAlerts.set(world, seen);
  }
  const key = `${grant.id} ${ip ?? ''}`;
  const now = world.clock.now();
  const last = seen.get(key);
  if (last !== undefined && now - last < ALERT_EVERY_MS) return;
  seen.set(key, now);
  const app = world.store.clients.get(grant.clientId)?.name ?? grant.clientId;
  world.alerts.raise(grant.ownerId, grant.clientId, 'ip-blocked', `${app} called from ${ip ?? 'an unknown address'}, which is not on its IP allow-list; the call was refused.`);
}

/** Standard OAuth bodies (RFC 6750), for surfaces that use them as they are. */
export const oauthBodies = {
  invalidToken: (res: Response, description: string): void => {
    res.json({ error: 'invalid_token', error_description: description });
  },
  insufficientScope: (res: Response, scope: string, description: string): void => {
    res.json({ error: 'insufficient_scope', error_description: description, scope });
  },
  /** RFC 9470 section 3. */
  insufficientUserAuthentication: (res: Response, description: string): void => {
    res.json({ error: 'insufficient_user_authentication', error_description: description });
  },
};
