import { Router, type Request, type RequestHandler, type Response } from 'express';
import { answerCounts } from './answer-faults';
import { applyFaults, defaultFaults } from './faults';
import { controlRefusal } from './loopback';
import { clockView, grantView } from './views';
import { revokeAsOwner } from '../owner/revoke-app';
import type { World } from '../world';

/**
 * /sim: the test and demo control API. JSON in and out, loopback only.
 * Every answer is `{ error }` on failure so a test can print why.
 */

type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';

/** Ten years: far beyond any token or schedule, short of overflowing a Date. */
const MAX_ADVANCE_MS = 10 * 366 * 24 * 3600 * 1000;

function fail(res: Response, status: number, error: string): void {
  res.status(status).json({ error });
}

/**
 * The JSON object a route needs, or undefined after answering 415/400.
 * A form body is refused rather than coerced: /sim is not for browsers.
 */
function jsonObject(req: Request, res: Response): Record<string, unknown> | undefined {
  if (req.body !== undefined && !req.is(['application/json', 'application/*+json'])) {
    fail(res, 415, 'send the body as application/json');
    return undefined;
  }
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    fail(res, 400, 'body must be a JSON object');
    return undefined;
  }
  return body as Record<string, unknown>;
}

/** `since=<seq>`: a non-negative integer, default 0 (everything). */
function sinceParam(req: Request, res: Response): number | undefined {
  const raw = req.query.since;
  if (raw === undefined) return 0;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) {
    fail(res, 400, 'since must be a non-negative integer sequence number');
    return undefined;
  }
  return Number(raw);
}

export function controlRouter(world: World): Router {
  const router = Router();

  router.use('/sim', (req, res, next) => {
    const refusal = controlRefusal({
      socketAddress: req.socket.remoteAddress,
      ip: req.ip,
      host: req.get('host'),
      origin: req.get('origin'),
      secFetchSite: req.get('sec-fetch-site'),
    });
    if (refusal) {
      fail(res, 403, refusal);
      return;
    }
    res.set('Cache-Control', 'no-store');
    next();
  });

  /** One path, its methods, and a 405 with Allow for every other method. */
  const route = (path: string, handlers: Partial<Record<Method, RequestHandler>>): void => {
    const r = router.route(path);
    const allow: string[] = [];
    for (const [method, handler] of Object.entries(handlers) as [Method, RequestHandler][]) {
      r[method](handler);
      allow.push(method.toUpperCase());
      if (method === 'get') allow.push('HEAD');
    }
    r.all((req, res) => {
      res.set('Allow', allow.join(', '));
      fail(res, 405, `${req.method} is not allowed on ${req.path}; use ${allow.join(', ')}`);
    });
  };

  route('/sim/state', {
    get: (_req, res) => {
      res.json({
        now: new Date(world.clock.now()).toISOString(),
        timeScale: world.clock.scale,
        vehicles: world.fleet.list().map((v) => world.fleet.snapshot(v.id)),
        grants: [...world.store.grants.values()].map((g) => grantView(world, g)),
        faults: { ...world.faults, offlineVehicles: [...world.faults.offlineVehicles] },
        rateLimits: { ...world.rateLimiter.settings },
      });
    },
  });

  route('/sim/faults', {
    get: (_req, res) => {
      res.json(world.faults);
    },
    put: (req, res) => {
      const body = jsonObject(req, res);
      if (!body) return;
      // A typo in a vehicle id would otherwise fake "online" silently.
      if (Array.isArray(body.offlineVehicles)) {
        const unknown = body.offlineVehicles.find((id) => typeof id === 'string' && !world.fleet.get(id));
        if (unknown !== undefined) return fail(res, 400, `offlineVehicles: unknown vehicle ${String(unknown)}`);
      }
      const error = applyFaults(world.faults, body);
      if (error) return fail(res, 400, error);
      res.json(world.faults);
    },
    delete: (_req, res) => {
      Object.assign(world.faults, defaultFaults());
      res.json(world.faults);
    },
  });

  route('/sim/clock', {
    get: (_req, res) => {
      res.json(clockView(world));
    },
  });

  route('/sim/clock/advance', {
    post: (req, res) => {
      const body = jsonObject(req, res);
      if (!body) return;
      const keys = Object.keys(body);
      if (keys.length !== 1 || (keys[0] !== 'ms' && keys[0] !== 'seconds')) return fail(res, 400, 'send exactly one of { "ms": n } or { "seconds": n }');
      const value = body[keys[0]];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return fail(res, 400, `${keys[0]} must be a non-negative number`);
      const ms = keys[0] === 'seconds' ? value * 1000 : value;
      if (ms > MAX_ADVANCE_MS) return fail(res, 400, 'advance at most ten years at a time');
      world.clock.advance(ms);
      res.json(clockView(world));
    },
  });

  route('/sim/requests', {
    get: (_req, res) => {
      res.json(world.counts.snapshot());
    },
    delete: (_req, res) => {
      world.counts.reset();
      res.json(world.counts.snapshot());
    },
  });

  route('/sim/answers', {
    get: (_req, res) => {
      res.json(answerCounts(world).snapshot());
    },
    delete: (_req, res) => {
      answerCounts(world).reset();
      res.json(answerCounts(world).snapshot());
    },
  });

  route('/sim/vehicles', {
    get: (_req, res) => {
      res.json(world.fleet.list().map((v) => world.fleet.snapshot(v.id)));
    },
  });

  route('/sim/vehicles/:id', {
    get: (req, res) => {
      const snapshot = world.fleet.snapshot(String(req.params.id));
      if (!snapshot) return fail(res, 404, `unknown vehicle ${String(req.params.id)}`);
      res.json(snapshot);
    },
    patch: (req, res) => {
      const id = String(req.params.id);
      if (!world.fleet.get(id)) return fail(res, 404, `unknown vehicle ${id}`);
      const body = jsonObject(req, res);
      if (!body) return;
      const error = world.fleet.patch(id, body);
      if (error) return fail(res, 400, error);
      res.json(world.fleet.snapshot(id));
    },
  });

  route('/sim/tokens/expire', {
    post: (_req, res) => {
      res.json({ expired: world.store.expireAllAccessTokens() });
    },
  });

  route('/sim/rate-limits', {
    get: (_req, res) => {
      res.json(world.rateLimiter.settings);
    },
    put: (req, res) => {
      const body = jsonObject(req, res);
      if (!body) return;
      const next = { ...world.rateLimiter.settings };
      for (const [key, value] of Object.entries(body)) {
        if (key !== 'perClientPerMinute' && key !== 'perVehiclePerMinute') return fail(res, 400, `unknown rate limit: ${key}`);
        if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return fail(res, 400, `${key} must be a non-negative number (0 = no limit)`);
        next[key] = value;
      }
      Object.assign(world.rateLimiter.settings, next);
      // New limits start from full buckets, so a test sees exactly the limit it set.
      world.rateLimiter.reset();
      res.json(world.rateLimiter.settings);
    },
    delete: (_req, res) => {
      Object.assign(world.rateLimiter.settings, world.options.rateLimits);
      world.rateLimiter.reset();
      res.json(world.rateLimiter.settings);
    },
  });

  route('/sim/grants', {
    get: (_req, res) => {
      res.json([...world.store.grants.values()].map((g) => grantView(world, g)));
    },
  });

  route('/sim/grants/:id', {
    get: (req, res) => {
      const grant = world.store.grants.get(String(req.params.id));
      if (!grant) return fail(res, 404, `unknown grant ${String(req.params.id)}`);
      res.json(grantView(world, grant));
    },
  });

  route('/sim/grants/:id/revoke', {
    post: (req, res) => {
      const grant = world.store.grants.get(String(req.params.id));
      if (!grant) return fail(res, 404, `unknown grant ${String(req.params.id)}`);
      revokeAsOwner(world, grant, req.ip, 'control API');
      res.json(grantView(world, grant));
    },
  });

  route('/sim/audit', {
    get: (req, res) => {
      const since = sinceParam(req, res);
      if (since === undefined) return;
      res.json(world.audit.all().filter((e) => e.seq > since));
    },
  });

  route('/sim/alerts', {
    get: (req, res) => {
      const since = sinceParam(req, res);
      if (since === undefined) return;
      res.json(world.alerts.all().filter((a) => a.seq > since));
    },
  });

  router.use('/sim', (req, res) => {
    fail(res, 404, `no control route ${req.method} ${req.originalUrl.split('?')[0]}`);
  });

  return router;
}
