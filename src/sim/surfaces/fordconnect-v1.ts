import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { CommandKind, CommandRecord } from '../vehicles/commands';
import { DAYS_OF_WEEK, type DoorName, type Vehicle, type VehicleView } from '../vehicles/vehicle';
import type { World } from '../world';
import { auditCommandOutcomes, COMMAND_ACTIONS } from './command-audit';
import { fordTimestamp, isoTimestamp, paintRgb, vehiclePng } from './ford-format';
import { createGuard, oauthBodies, type Caller, type Operation, type Refusals } from './guard';

/**
 * FordConnect v1 as working clients used it (ford-api.md): the same bodies
 * under every path spelling Ford and the community simulator used, async
 * commands with a commandId, and Ford's error shapes. Field names are Ford's;
 * timestamps mix `MM-DD-YYYY HH:mm:ss` (status values, lastUpdated) and ISO
 * 8601 (fuel / battery levels, location, lock and alarm), as Ford's bodies do.
 */

/** The Application-Id every FordConnect client sends (Ford's API gateway subscription key). */
export const FORD_APPLICATION_ID = 'afdc085b-377a-4351-b23e-5e1d35fb3700';

/** 2023–2024 paths (v3 / v2 / v1 before `vehicles`) and the 2021 spelling. */
export const FORDCONNECT_V1_PREFIXES = ['/api/fordconnect/v3/vehicles', '/api/fordconnect/v2/vehicles', '/api/fordconnect/v1/vehicles', '/api/fordconnect/vehicles/v1'] as const;

/** Commands a client can POST, by path segment (`status` is the refresh). */
const POST_COMMANDS: readonly CommandKind[] = ['lock', 'unlock', 'startEngine', 'stopEngine', 'wake', 'startCharge', 'stopCharge', 'signal', 'status', 'location'];

/**
 * Commands that open the car or set it running: with the step-up setting on
 * they need a recent owner sign-in (RFC 9470). Lock, stop and the rest make
 * the car safer or are harmless, so they never ask.
 */
export const STEP_UP_COMMANDS: ReadonlySet<CommandKind> = new Set<CommandKind>(['unlock', 'startEngine']);

export const COMMAND_SCOPES: Record<CommandKind, string> = {
  lock: 'command:lock',
  unlock: 'command:lock',
  startEngine: 'command:remote-start',
  stopEngine: 'command:remote-start',
  wake: 'read:status',
  status: 'read:status',
  location: 'read:location',
  signal: 'command:horn-lights',
  startCharge: 'command:charge',
  stopCharge: 'command:charge',
};

const COMMAND_LABELS: Record<CommandKind, string> = {
  lock: 'lock',
  unlock: 'unlock',
  startEngine: 'remote start',
  stopEngine: 'remote stop',
  wake: 'wake',
  status: 'status refresh',
  location: 'location refresh',
  signal: 'horn and lights',
  startCharge: 'start charging',
  stopCharge: 'stop charging',
};

/** Request-count keys, for tests that prove "exactly one call". */
export const FORDCONNECT_V1_COUNTS = {
  total: 'api.total',
  list: 'api.vehicles.list',
  info: 'api.vehicle.info',
  location: 'api.vehicle.location',
  chargeSchedules: 'api.vehicle.chargeSchedules',
  departureTimes: 'api.vehicle.departureTimes',
  image: 'api.vehicle.image',
  /** Every command-status poll, statusrefresh included. */
  commandStatus: 'api.command.status',
  command: (kind: CommandKind): string => `api.command.${kind}`,
  methodNotAllowed: 'api.method-not-allowed',
  notFound: 'api.not-found',
};

const C = FORDCONNECT_V1_COUNTS;

const FAILED_3000 = { error: { code: 3000, title: 'Unauthorized user', statusCode: 'UNAUTHORIZED' }, status: 'FAILED', commandStatus: 'FAILED' };
const NOT_FOUND_4002 = { error: { code: 4002, statusCode: 'NOT_FOUND' }, status: 'FAILED' };
const NOT_ACCEPTABLE_4006 = { error: { code: 4006, statusCode: 'NOT_ACCEPTABLE' }, status: 'FAILED' };

const fordError = (res: Response, status: number, errorMessage: string): void => {
  res.status(status).json({ errorCode: String(status), errorMessage });
};

const REFUSALS: Refusals = {
  subscriptionKey: {
    header: 'Application-Id',
    value: FORD_APPLICATION_ID,
    write: (res, missing) => {
      res.json({ statusCode: 401, message: missing ? 'Access denied due to missing subscription key.' : 'Access denied due to invalid subscription key.' });
    },
  },
  invalidToken: oauthBodies.invalidToken,
  insufficientScope: oauthBodies.insufficientScope,
  insufficientUserAuthentication: oauthBodies.insufficientUserAuthentication,
  ipBlocked: (res) => fordError(res, 403, "Forbidden: calls from this address are not on the owner's IP allow-list for this app"),
  unavailable: (res) => fordError(res, 503, 'Service Unavailable'),
  rateLimited: (res, _seconds, description) => fordError(res, 429, description),
  badVehicleId: (res) => fordError(res, 400, 'getVehicleV3.vehicleId: Invalid vehicleId, getVehicleV3.vehicleId: size must be between 32 and 32'),
  unknownVehicle: (res) => {
    res.json(NOT_FOUND_4002);
  },
  vehicleNotGranted: (res) => {
    res.json(FAILED_3000);
  },
};

const DOOR_WIRE: Record<DoorName, { vehicleDoor: string; vehicleOccupantRole: string }> = {
  DRIVER: { vehicleDoor: 'UNSPECIFIED_FRONT', vehicleOccupantRole: 'DRIVER' },
  PASSENGER: { vehicleDoor: 'UNSPECIFIED_FRONT', vehicleOccupantRole: 'PASSENGER' },
  REAR_LEFT: { vehicleDoor: 'REAR_LEFT', vehicleOccupantRole: 'PASSENGER' },
  REAR_RIGHT: { vehicleDoor: 'REAR_RIGHT', vehicleOccupantRole: 'PASSENGER' },
  HOOD_DOOR: { vehicleDoor: 'HOOD_DOOR', vehicleOccupantRole: 'NOT_APPLICABLE' },
  TAILGATE: { vehicleDoor: 'TAILGATE', vehicleOccupantRole: 'NOT_APPLICABLE' },
  INNER_TAILGATE: { vehicleDoor: 'INNER_TAILGATE', vehicleOccupantRole: 'NOT_APPLICABLE' },
};

const round1 = (v: number): number => Math.round(v * 10) / 10;
const KM_PER_MILE = 1.609344;

/** Ford's brand code, as in the authorize URL's `make=F`. */
const makeCode = (make: string): string => (make.toLowerCase() === 'lincoln' ? 'L' : 'F');

function listEntry(v: Vehicle): Record<string, unknown> {
  return {
    vehicleId: v.id,
    make: makeCode(v.make),
    modelName: v.modelName,
    modelYear: v.modelYear,
    color: v.color,
    nickName: v.nickName,
    modemEnabled: true,
    vehicleAuthorizationIndicator: 1,
    serviceCompatible: true,
  };
}

function locationBody(view: VehicleView, at: number): Record<string, unknown> {
  return {
    longitude: view.lon.toFixed(6),
    latitude: view.lat.toFixed(6),
    speed: round1(view.speedKph),
    direction: view.direction,
    timeStamp: isoTimestamp(at),
  };
}

function lockBody(locked: boolean, alarmSet: boolean, at: number): Record<string, unknown> {
  return {
    lockStatus: { value: locked ? 'LOCKED' : 'UNLOCKED', timestamp: isoTimestamp(at) },
    alarm: { value: alarmSet ? 'SET' : 'NOTSET', timestamp: isoTimestamp(at) },
  };
}

function infoBody(v: Vehicle, withLocation: boolean): Record<string, unknown> {
  const { at, view } = v.reported();
  const ts = fordTimestamp(at);
  const level = (value: number | null, rangeKm: number | null): Record<string, unknown> =>
    value === null ? { value: null, distanceToEmpty: 0.0, timestamp: null } : { value: round1(value), distanceToEmpty: round1(rangeKm ?? 0), timestamp: isoTimestamp(at) };
  const vehicle: Record<string, unknown> = {
    ...listEntry(v),
    engineType: v.engineType,
    lastUpdated: ts,
    vehicleDetails: {
      fuelLevel: level(view.fuelPercent, view.fuelRangeKm),
      batteryChargeLevel: level(view.batteryPercent, view.batteryRangeKm),
      mileage: round1(view.odometerKm / KM_PER_MILE),
      odometer: round1(view.odometerKm),
    },
    vehicleStatus: {
      tirePressureWarning: view.tirePressureWarning,
      deepSleepInProgress: view.deepSleep,
      firmwareUpgradeInProgress: view.firmwareUpgrade,
      remoteStartStatus: { status: view.engineRunning ? 'ENGINE_RUNNING' : 'ENGINE_STOPPED', duration: view.remoteStartMinutesLeft, timeStamp: ts },
      chargingStatus: {
        value: view.chargingStatus,
        timeStamp: ts,
        chargeStartTime: view.chargeStartedAt === null ? null : fordTimestamp(view.chargeStartedAt),
        chargeEndTime: view.chargeEndAt === null ? null : fordTimestamp(view.chargeEndAt),
      },
      plugStatus: { value: view.plugged, timeStamp: ts },
      ignitionStatus: { value: view.ignitionOn ? 'ON' : 'OFF', timeStamp: ts },
      doorStatus: view.doors.map((d) => ({ ...DOOR_WIRE[d.name], value: d.open ? 'OPEN' : 'CLOSED', timeStamp: ts })),
      ...lockBody(view.locked, view.alarmSet, at),
    },
  };
  if (withLocation) vehicle.vehicleLocation = locationBody(view, at);
  return { status: 'SUCCESS', vehicle };
}

/** The next departure from now (simulated, UTC), Ford's single-object shape. */
function nextDeparture(v: Vehicle, now: number): Record<string, unknown> {
  const times = v.spec.departureTimes ?? [];
  const d = new Date(now);
  const minuteOfWeek = d.getUTCDay() * 1440 + d.getUTCHours() * 60 + d.getUTCMinutes();
  let best: { wait: number; t: (typeof times)[number] } | undefined;
  for (const t of times) {
    const [h, m] = t.time.split(':').map(Number);
    const at = DAYS_OF_WEEK.indexOf(t.dayOfWeek) * 1440 + h * 60 + m;
    const wait = (at - minuteOfWeek + 7 * 1440) % (7 * 1440);
    if (!best || wait < best.wait) best = { wait, t };
  }
  if (!best) return { dayOfWeek: 'MONDAY', enabled: false, hour: 0, minutes: 0, preConditioningSetting: 'OFF' };
  const [hour, minutes] = best.t.time.split(':').map(Number);
  return { dayOfWeek: best.t.dayOfWeek, enabled: true, hour, minutes, preConditioningSetting: best.t.preConditioningSetting };
}

const IMAGE_SIZES = { thumbnail: [48, 24], full: [320, 160] } as const;

type Method = 'get' | 'post';

export function fordConnectV1Router(world: World): Router {
  auditCommandOutcomes(world);
  // FordConnect Query authorizations are for that API only, as Ford's are.
  const guard = createGuard(world, REFUSALS, { acceptsGrant: (grant) => grant.api === undefined });
  const vehicles = Router();
  const images = new Map<string, Buffer>();

  /** One path, its methods, and 405 with Allow for any other. */
  const route = (path: string, handlers: Partial<Record<Method, RequestHandler>>): void => {
    const r = vehicles.route(path);
    const allow: string[] = [];
    for (const [method, handler] of Object.entries(handlers) as [Method, RequestHandler][]) {
      r[method](handler);
      allow.push(method.toUpperCase());
      if (method === 'get') allow.push('HEAD');
    }
    r.all((req, res) => {
      world.counts.increment(C.total);
      world.counts.increment(C.methodNotAllowed);
      res.set('Allow', allow.join(', '));
      fordError(res, 405, `Method ${req.method} is not allowed here; use ${allow.join(', ')}`);
    });
  };

  const op = (count: string, action: string, label: string, scope: string | undefined, vehicle: Operation['vehicle'] = 'path'): Operation => ({ count, action, label, scope, vehicle });
  const vehicleOf = (caller: Caller): Vehicle => {
    if (!caller.vehicle) throw new Error('guard let a vehicle route through without a vehicle');
    return caller.vehicle;
  };

  route('/', {
    get: guard(op(C.list, 'status.read', 'vehicle list', undefined, 'none'), (_req, res, caller) => {
      const listed = caller.grant.vehicleIds.map((id) => world.fleet.get(id)).filter((v): v is Vehicle => v !== undefined);
      res.json({ status: 'SUCCESS', vehicles: listed.map(listEntry) });
      caller.audit('ok', `${listed.length} vehicle${listed.length === 1 ? '' : 's'}`, 200);
    }),
  });

  route('/:vehicleId', {
    get: guard(op(C.info, 'status.read', 'vehicle information', 'read:status'), (_req, res, caller) => {
      const withLocation = caller.hasScope('read:location');
      res.json(infoBody(vehicleOf(caller), withLocation));
      caller.audit('ok', withLocation ? 'status and location' : 'status (no location: read:location not granted)', 200);
    }),
  });

  const issue = (kind: CommandKind): RequestHandler =>
    guard({ ...op(C.command(kind), COMMAND_ACTIONS[kind], COMMAND_LABELS[kind], COMMAND_SCOPES[kind]), stepUp: STEP_UP_COMMANDS.has(kind) }, (_req, res, caller) => {
      const v = vehicleOf(caller);
      const result = world.fleet.issueCommand(v.id, kind, { ownerId: caller.ownerId, clientId: caller.clientId, ip: caller.ip });
      if (!result.ok) {
        res.status(406).json(NOT_ACCEPTABLE_4006);
        caller.audit('failed', `not supported by a ${v.engineType} vehicle`, 406);
        return;
      }
      res.status(202).set('Vehicleid', v.id).json({ status: 'SUCCESS', commandStatus: result.command.status, commandId: result.command.id });
      caller.audit('ok', `accepted, command ${result.command.id} PENDINGRESPONSE`, 202);
    });

  const commandStatus = (kind: CommandKind, label: string, body: (command: CommandRecord) => Record<string, unknown> = () => ({})): RequestHandler =>
    guard(op(C.commandStatus, 'status.read', label, COMMAND_SCOPES[kind]), (req, res, caller) => {
      const v = vehicleOf(caller);
      // Only the app and owner that issued it, and only under its own path (statusrefresh for a refresh).
      const command = world.fleet.command(v.id, String(req.params.commandId), { kind, issuer: { clientId: caller.clientId, ownerId: caller.ownerId } });
      if (!command) {
        res.status(401).json(FAILED_3000);
        caller.audit('failed', 'unknown or expired command id', 401);
        return;
      }
      // extension: Ford's FAILED says nothing of why; an owner-authorized API should.
      const failure = command.status === 'FAILED' && command.reason ? { failureReason: command.reason } : {};
      res.set('Vehicleid', v.id).json({ status: 'SUCCESS', commandStatus: command.status, commandId: command.id, ...failure, ...body(command) });
      caller.audit('ok', `${command.kind} ${command.id}: ${command.status}`, 200);
    });

  for (const kind of POST_COMMANDS) {
    if (kind === 'location') continue;
    route(`/:vehicleId/${kind}`, { post: issue(kind) });
    // The refresh's result has its own path; every other command is polled under its own name.
    if (kind !== 'status') route(`/:vehicleId/${kind}/:commandId`, { get: commandStatus(kind, 'command status') });
  }

  route('/:vehicleId/statusrefresh/:commandId', {
    get: commandStatus('status', 'status refresh result', (command) =>
      command.status === 'COMPLETED' && command.result && command.kind === 'status' ? { vehicleStatus: lockBody(command.result.locked, command.result.alarmSet, command.result.at) } : {},
    ),
  });

  route('/:vehicleId/location', {
    get: guard(op(C.location, 'location.read', 'location', 'read:location'), (_req, res, caller) => {
      const { at, view } = vehicleOf(caller).reported();
      res.json({ status: 'SUCCESS', vehicleLocation: locationBody(view, at) });
      caller.audit('ok', 'last reported position', 200);
    }),
    post: issue('location'),
  });
  route('/:vehicleId/location/:commandId', { get: commandStatus('location', 'command status') });

  route('/:vehicleId/chargeSchedules', {
    get: guard(op(C.chargeSchedules, 'status.read', 'charge schedules', 'read:status'), (_req, res, caller) => {
      const v = vehicleOf(caller);
      if (!v.canCharge()) {
        res.status(406).json(NOT_ACCEPTABLE_4006);
        caller.audit('failed', `not supported by a ${v.engineType} vehicle`, 406);
        return;
      }
      const target = v.state.chargeTargetPercent;
      const chargeSchedules = (v.spec.chargeSchedules ?? []).map((s) => ({ days: s.days, chargeWindows: s.chargeWindows.map((w) => ({ ...w })), desiredChargeLevel: target }));
      res.json({ status: 'SUCCESS', chargeSchedules });
      caller.audit('ok', `${chargeSchedules.length} schedules`, 200);
    }),
  });

  route('/:vehicleId/departureTimes', {
    get: guard(op(C.departureTimes, 'status.read', 'departure times', 'read:status'), (_req, res, caller) => {
      const v = vehicleOf(caller);
      if (!v.canCharge()) {
        res.status(406).json(NOT_ACCEPTABLE_4006);
        caller.audit('failed', `not supported by a ${v.engineType} vehicle`, 406);
        return;
      }
      res.json({ status: 'SUCCESS', departureTimes: nextDeparture(v, world.clock.now()) });
      caller.audit('ok', 'next departure', 200);
    }),
  });

  for (const size of ['thumbnail', 'full'] as const) {
    route(`/:vehicleId/images/${size}`, {
      get: guard(op(C.image, 'status.read', `${size} image`, 'read:status'), (req, res, caller) => {
        const v = vehicleOf(caller);
        const problem = imageQueryProblem(req);
        if (problem) {
          fordError(res, 400, problem);
          caller.audit('failed', problem, 400);
          return;
        }
        const key = `${v.id}:${size}`;
        let png = images.get(key);
        if (!png) {
          png = vehiclePng(IMAGE_SIZES[size][0], IMAGE_SIZES[size][1], paintRgb(v.color));
          images.set(key, png);
        }
        res.type('image/png').send(png);
        caller.audit('ok', 'picture of the vehicle', 200);
      }),
    });
  }

  vehicles.use((req, res) => {
    world.counts.increment(C.total);
    world.counts.increment(C.notFound);
    fordError(res, 404, `Resource not found: ${req.method} ${req.baseUrl}${req.path}`);
  });

  const router = Router();
  for (const prefix of FORDCONNECT_V1_PREFIXES) router.use(prefix, vehicles);
  // Any other spelling under the API's root is Ford's 404 too, not the generic one.
  router.use('/api/fordconnect', (req, res) => {
    world.counts.increment(C.total);
    world.counts.increment(C.notFound);
    fordError(res, 404, `Resource not found: ${req.method} ${req.baseUrl}${req.path}`);
  });
  return router;
}

/** Ford's image call wants `make` (F, Ford, L, Lincoln), `model` and a four-digit `year`. */
function imageQueryProblem(req: Request): string | undefined {
  const { make, model, year } = req.query;
  if (typeof make !== 'string' || !['f', 'ford', 'l', 'lincoln'].includes(make.toLowerCase())) return 'Invalid make parameter. Must be one of: "F", "Ford", "L", "Lincoln".';
  if (typeof model !== 'string' || model.trim() === '' || model.length > 100) return 'Invalid model parameter.';
  if (typeof year !== 'string' || !/^\d{4}$/.test(year) || Number(year) < 2010) return 'Invalid year parameter. Must be four digit format (like 2019).';
  return undefined;
}
