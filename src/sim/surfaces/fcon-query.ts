import { Router, type RequestHandler, type Response } from 'express';
import { FCON_QUERY_BASE, hasCategory, type FconCategory } from '../oauth/fcon-categories';
import type { Vehicle } from '../vehicles/vehicle';
import type { World } from '../world';
import { chargeSchedulesBody, departureTimesBody, garageBody, healthAlertsBody, LOCATION_METRIC_NAMES, telemetryBody } from './fcon-query-format';
import { createGuard, type Caller, type Operation, type Refusals, type SurfaceFault } from './guard';

/**
 * FordConnect Query (ford-api.md), Ford's read-only API: no path carries a
 * VIN or vehicle id, the token is the vehicle (one per authorization), and
 * the data categories the owner ticked decide what answers. The request
 * pipeline (bearer, IP allow-list, faults, rate limits, audit) is the one
 * FordConnect v1 uses; errors are Ford's `{ errorCode, errorMessage }`.
 */

export { FCON_QUERY_BASE };

/** Request-count keys, for tests that prove "exactly one call". */
export const FCON_QUERY_COUNTS = {
  total: 'fcon.total',
  garage: 'fcon.garage',
  telemetry: 'fcon.telemetry',
  chargeSchedules: 'fcon.charge-schedules',
  departureTimes: 'fcon.departure-times',
  alerts: 'fcon.alerts',
  methodNotAllowed: 'fcon.method-not-allowed',
  notFound: 'fcon.not-found',
};

const C = FCON_QUERY_COUNTS;

const queryError = (res: Response, status: number, errorMessage: string): void => {
  res.status(status).json({ errorCode: status, errorMessage });
};

/** What Ford's gateway answers with now and then instead of JSON. */
export const HTML_401_PAGE = '<!DOCTYPE html>\n<html><head><title>401 Unauthorized</title></head><body><h1>401 Unauthorized</h1><p>Access is denied due to invalid credentials.</p></body></html>\n';

const REFUSALS: Refusals = {
  invalidToken: (res, description) => queryError(res, 401, description),
  insufficientScope: (res, scope) => queryError(res, 403, `Required scopes missing: ${scope}`),
  insufficientUserAuthentication: (res, description) => queryError(res, 401, description),
  ipBlocked: (res) => queryError(res, 403, "Forbidden: calls from this address are not on the owner's IP allow-list for this app"),
  unavailable: (res) => queryError(res, 503, 'Service Unavailable'),
  rateLimited: (res, _seconds, description) => queryError(res, 429, description),
  // The vehicle comes from the grant, never the path: these two cannot be reached by a well-formed grant.
  badVehicleId: (res) => queryError(res, 400, 'Bad Request'),
  unknownVehicle: (res) => queryError(res, 404, 'Not Found'),
  vehicleNotGranted: (res) => queryError(res, 403, 'Forbidden'),
};

/** This API's own misbehaviour (ford-api.md "Errors"), beside the shared 503 / 429 faults. */
const FAULTS: readonly SurfaceFault[] = [
  {
    rate: (world) => world.faults.html401Rate,
    status: 401,
    write: (res) => {
      res.type('html').send(HTML_401_PAGE);
    },
    outcome: 'failed',
    detail: 'refused with an HTML 401 page (injected fault)',
  },
  {
    rate: (world) => world.faults.rateLimitNoRetryAfterRate,
    status: 429,
    write: (res) => {
      res.json({ errorCode: 429, errorMessage: 'Too Many Requests' });
    },
    outcome: 'rate-limited',
    detail: 'rate limited without a Retry-After (injected fault)',
  },
];

type Method = 'get';

export function fconQueryRouter(world: World): Router {
  const guard = createGuard(world, REFUSALS, { totalCount: C.total, acceptsGrant: (grant) => grant.api === 'fcon-query', faults: FAULTS });
  const api = Router();

  /** One path, its methods, and 405 with Allow for any other. */
  const route = (path: string, handlers: Partial<Record<Method, RequestHandler>>): void => {
    const r = api.route(path);
    const allow: string[] = [];
    for (const [method, handler] of Object.entries(handlers) as [Method, RequestHandler][]) {
      r[method](handler);
      allow.push(method.toUpperCase(), 'HEAD');
    }
    r.all((req, res) => {
      world.counts.increment(C.total);
      world.counts.increment(C.methodNotAllowed);
      res.set('Allow', allow.join(', '));
      queryError(res, 405, 'Method Not Allowed');
    });
  };

  const op = (count: string, action: string, label: string): Operation => ({ count, action, label, vehicle: 'grant' });
  const vehicleOf = (caller: Caller): Vehicle => {
    if (!caller.vehicle) throw new Error('guard let a vehicle route through without a vehicle');
    return caller.vehicle;
  };
  /** Ford's 403 for a data category the app was not granted; the owner's log says which. */
  const needs = (caller: Caller, res: Response, category: FconCategory): boolean => {
    if (hasCategory(caller.grant, category)) return true;
    queryError(res, 403, `Required scopes missing: ${category}`);
    caller.audit('denied', `refused: the ${category} data category was not granted`, 403);
    return false;
  };

  route('/v1/garage', {
    get: guard(op(C.garage, 'status.read', 'garage'), (_req, res, caller) => {
      res.json(garageBody(vehicleOf(caller)));
      caller.audit('ok', 'vehicle identity', 200);
    }),
  });

  route('/v1/telemetry', {
    get: guard(op(C.telemetry, 'status.read', 'telemetry'), (_req, res, caller) => {
      const v = vehicleOf(caller);
      const body = telemetryBody(v, caller.grant, world.options.seed);
      res.json(body);
      const names = Object.keys(body.metrics);
      const located = LOCATION_METRIC_NAMES.some((n) => names.includes(n));
      caller.audit('ok', located ? `${names.length} metrics, position included` : `${names.length} metrics (no location: the location category was not granted)`, 200);
      // The position went out too: the owner sees that read as what it is.
      if (located) {
        world.audit.record({
          ownerId: caller.ownerId,
          clientId: caller.clientId,
          vehicleId: v.id,
          action: 'location.read',
          outcome: 'ok',
          detail: 'telemetry: position, heading and speed',
          ...(caller.ip !== undefined ? { ip: caller.ip } : {}),
          httpStatus: 200,
        });
      }
    }),
  });

  const evRoute = (path: string, count: string, label: string, body: (v: Vehicle, caller: Caller) => Record<string, unknown>): void => {
    route(path, {
      get: guard(op(count, 'status.read', label), (_req, res, caller) => {
        if (!needs(caller, res, 'evData')) return;
        const v = vehicleOf(caller);
        if (!v.canCharge()) {
          // An optional endpoint the vehicle lacks (ford-api.md: treat as "unsupported").
          queryError(res, 404, 'Not Found');
          caller.audit('failed', `not supported by a ${v.engineType} vehicle`, 404);
          return;
        }
        res.json(body(v, caller));
        caller.audit('ok', label, 200);
      }),
    });
  };
  evRoute('/v1/electric/charge-schedules', C.chargeSchedules, 'charge schedules', (v, caller) => chargeSchedulesBody(v, hasCategory(caller.grant, 'location')));
  evRoute('/v1/electric/departure-times', C.departureTimes, 'departure times', (v) => departureTimesBody(v));

  route('/v1/vehicle-health/alerts', {
    get: guard(op(C.alerts, 'status.read', 'health alerts'), (_req, res, caller) => {
      if (!needs(caller, res, 'health')) return;
      const body = healthAlertsBody(vehicleOf(caller));
      res.json(body);
      const list = body.VehicleAlertList as { ActiveAlerts: unknown[] }[];
      const n = list[0]?.ActiveAlerts.length ?? 0;
      caller.audit('ok', `${n} active alert${n === 1 ? '' : 's'}`, 200);
    }),
  });

  api.use((_req, res) => {
    world.counts.increment(C.total);
    world.counts.increment(C.notFound);
    queryError(res, 404, 'Not Found');
  });

  const router = Router();
  router.use(FCON_QUERY_BASE, api);
  return router;
}
