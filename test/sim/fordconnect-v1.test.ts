import { expect } from 'chai';
import type { RunningSimulator } from '../../src/sim';
import { allScopeNames } from '../../src/sim/oauth/scopes';
import { defaultFaults } from '../../src/sim/control/faults';
import type { Vehicle } from '../../src/sim/vehicles/vehicle';
import { mintToken, requestFrom, withSimulator } from '../helpers/sim';

const APP_ID = 'afdc085b-377a-4351-b23e-5e1d35fb3700';
const V3 = '/api/fordconnect/v3/vehicles';
const V1 = '/api/fordconnect/v1/vehicles';
const OLD = '/api/fordconnect/vehicles/v1';
const SPELLINGS = [V3, '/api/fordconnect/v2/vehicles', V1, OLD];
const ALL = allScopeNames();
const SEC = 1000;
const MIN = 60 * SEC;
/** Tests advance the clock by hours: tokens that are not about expiry outlive them. */
const YEAR_SECONDS = 365 * 24 * 3600;

/** The fields these tests read; the assertions check them at run time. */
interface Level {
  value: number | null;
  distanceToEmpty: number;
  timestamp: string | null;
}
interface LockAlarm {
  lockStatus: { value: string; timestamp: string };
  alarm: { value: string; timestamp: string };
}
interface StatusBody extends LockAlarm {
  remoteStartStatus: { status: string; duration: number; timeStamp: string };
  chargingStatus: { value: string; timeStamp: string; chargeStartTime: string | null; chargeEndTime: string | null };
  plugStatus: { value: boolean; timeStamp: string };
  ignitionStatus: { value: string; timeStamp: string };
  doorStatus: { vehicleDoor: string; vehicleOccupantRole: string; value: string; timeStamp: string }[];
}
interface LocationBody {
  latitude: string;
  longitude: string;
  speed: number;
  direction: string;
  timeStamp: string;
}
interface VehicleBody {
  vehicleId: string;
  engineType: string;
  lastUpdated: string;
  vehicleDetails: { fuelLevel: Level; batteryChargeLevel: Level; mileage: number; odometer: number };
  vehicleStatus: StatusBody;
  vehicleLocation: LocationBody;
}
interface FordBody {
  status: string;
  commandStatus: string;
  commandId: string;
  vehicles: { vehicleId: string }[];
  vehicle: VehicleBody;
  vehicleLocation: LocationBody;
  vehicleStatus: LockAlarm;
  chargeSchedules: { days: string; desiredChargeLevel: number }[];
  departureTimes: Record<string, unknown>;
  error: unknown;
  error_description: string;
  scope: string;
  errorCode: string;
  errorMessage: string;
}

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
  json: FordBody;
  bytes: Buffer;
}

interface CallOptions {
  token?: string;
  appId?: string | null;
  body?: string;
  headers?: Record<string, string>;
}

describe('sim FordConnect v1 surface', () => {
  let sim: RunningSimulator;
  let truck: Vehicle;
  let machE: Vehicle;
  let escape: Vehicle;
  let eTransit: Vehicle;
  let transit: Vehicle;
  let full: string;

  async function call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { Accept: 'application/json', 'api-version': '2020-06-01', ...options.headers };
    if (options.appId !== null) headers['Application-Id'] = options.appId ?? APP_ID;
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${sim.url}${path}`, { method, headers, body: options.body });
    const bytes = Buffer.from(await res.arrayBuffer());
    let body: unknown = bytes.toString('utf8');
    if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(bytes.toString('utf8'));
    return { status: res.status, headers: res.headers, body, json: body as FordBody, bytes };
  }

  const get = (path: string, token = full, options: CallOptions = {}) => call('GET', path, { token, ...options });
  const post = (path: string, token = full, options: CallOptions = {}) => call('POST', path, { token, ...options });

  /** The audit records written since `since`. */
  const auditSince = (since: number) => sim.world.audit.all().filter((e) => e.seq > since);
  const lastSeq = () => sim.world.audit.all().at(-1)?.seq ?? 0;

  /** POSTs a command, checks the 202, advances past the delay and returns the final status body. */
  async function runCommand(prefix: string, vehicle: Vehicle, command: string, token = full): Promise<{ commandId: string; final: Reply }> {
    const accepted = await post(`${prefix}/${vehicle.id}/${command}`, token);
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(202);
    expect(accepted.json).to.deep.equal({ status: 'SUCCESS', commandStatus: 'PENDINGRESPONSE', commandId: accepted.json.commandId });
    expect(accepted.json.commandId).to.match(/^[0-9a-f]{32}$/);
    const statusPath = command === 'status' ? 'statusrefresh' : command;
    const pending = await get(`${prefix}/${vehicle.id}/${statusPath}/${accepted.json.commandId}`, token);
    expect(pending.json.commandStatus).to.equal('PENDINGRESPONSE');
    sim.world.clock.advance(4 * SEC);
    const final = await get(`${prefix}/${vehicle.id}/${statusPath}/${accepted.json.commandId}`, token);
    expect(final.status).to.equal(200);
    return { commandId: accepted.json.commandId, final };
  }

  before(async () => {
    // Generous limits: only the rate-limit tests tighten them.
    sim = await withSimulator({ rateLimits: { perClientPerMinute: 100_000, perVehiclePerMinute: 100_000 } });
    const byModel = (name: string) => sim.world.fleet.list().find((v) => v.modelName === name)!;
    truck = byModel('F-150');
    machE = byModel('Mustang Mach-E');
    escape = byModel('Escape Plug-In Hybrid');
    eTransit = byModel('E-Transit');
    transit = byModel('Transit');
    full = mintToken(sim, 'owner-1', ALL, { lifetimeSeconds: YEAR_SECONDS }).token;
  });
  after(() => sim.close());
  afterEach(() => {
    Object.assign(sim.world.faults, defaultFaults());
    sim.world.rateLimiter.reset();
  });

  describe('every endpoint under every path spelling', () => {
    for (const prefix of SPELLINGS) {
      it(`${prefix}: list, info, location, schedules, images, refreshes and commands`, async () => {
        const list = await get(prefix);
        expect(list.status).to.equal(200);
        expect(list.json.status).to.equal('SUCCESS');
        expect(list.json.vehicles.map((v) => v.vehicleId)).to.deep.equal([truck.id, machE.id, escape.id]);
        expect(Object.keys(list.json.vehicles[0])).to.deep.equal(['vehicleId', 'make', 'modelName', 'modelYear', 'color', 'nickName', 'modemEnabled', 'vehicleAuthorizationIndicator', 'serviceCompatible']);
        expect((await get(`${prefix}/`)).json).to.deep.equal(list.json);

        const info = await get(`${prefix}/${machE.id}`);
        expect(info.status).to.equal(200);
        expect(info.json.vehicle).to.include({ vehicleId: machE.id, engineType: 'BEV', modelName: 'Mustang Mach-E', nickName: 'Sky' });

        const location = await get(`${prefix}/${machE.id}/location`);
        expect(location.status).to.equal(200);
        expect(location.json.vehicleLocation).to.have.keys(['latitude', 'longitude', 'speed', 'direction', 'timeStamp']);

        const schedules = await get(`${prefix}/${machE.id}/chargeSchedules`);
        expect(schedules.status).to.equal(200);
        expect(schedules.json.chargeSchedules[0]).to.deep.equal({ days: 'WEEKDAY', chargeWindows: [{ startTime: '23:00', endTime: '07:00' }], desiredChargeLevel: 90 });
        const departures = await get(`${prefix}/${machE.id}/departureTimes`);
        expect(departures.status).to.equal(200);
        expect(departures.json.departureTimes).to.have.keys(['dayOfWeek', 'enabled', 'hour', 'minutes', 'preConditioningSetting']);

        for (const size of ['thumbnail', 'full']) {
          const image = await get(`${prefix}/${machE.id}/images/${size}?make=F&model=Mustang%20Mach-E&year=2023`);
          expect(image.status).to.equal(200);
          expect(image.headers.get('content-type')).to.match(/^image\/png/);
          expect(image.bytes.subarray(0, 8).toString('hex')).to.equal('89504e470d0a1a0a');
        }

        const refresh = await runCommand(prefix, truck, 'status');
        expect(refresh.final.json.commandStatus).to.equal('COMPLETED');
        const locate = await runCommand(prefix, truck, 'location');
        expect(locate.final.json.commandStatus).to.equal('COMPLETED');
        for (const command of ['unlock', 'lock', 'startEngine', 'stopEngine', 'wake', 'signal']) {
          const { final, commandId } = await runCommand(prefix, truck, command);
          expect(final.json, command).to.deep.equal({ status: 'SUCCESS', commandStatus: 'COMPLETED', commandId });
        }
        for (const command of ['startCharge', 'stopCharge']) {
          const { final } = await runCommand(prefix, machE, command);
          expect(final.json.commandStatus, command).to.equal('COMPLETED');
        }
      });
    }

    it('gives the same bodies under each spelling', async () => {
      const bodies = await Promise.all(SPELLINGS.map((p) => get(`${p}/${truck.id}`)));
      for (const b of bodies) expect(b.json).to.deep.equal(bodies[0].json);
    });
  });

  describe('vehicle information', () => {
    it("uses Ford's field names, string coordinates and both timestamp spellings", async () => {
      const { json } = await get(`${V3}/${truck.id}`);
      expect(json.status).to.equal('SUCCESS');
      const v = json.vehicle;
      expect(v).to.include({ make: 'F', modelName: 'F-150', modelYear: '2022', engineType: 'ICE', modemEnabled: true, vehicleAuthorizationIndicator: 1, serviceCompatible: true });
      expect(v.lastUpdated).to.match(/^\d\d-\d\d-\d{4} \d\d:\d\d:\d\d$/);
      expect(v.vehicleDetails).to.have.keys(['fuelLevel', 'batteryChargeLevel', 'mileage', 'odometer']);
      expect(v.vehicleDetails.fuelLevel.value).to.be.a('number');
      expect(v.vehicleDetails.fuelLevel.timestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(v.vehicleDetails.batteryChargeLevel).to.deep.equal({ value: null, distanceToEmpty: 0, timestamp: null });
      expect(v.vehicleDetails.mileage).to.be.closeTo(v.vehicleDetails.odometer / 1.609344, 0.1);
      const s = v.vehicleStatus;
      expect(s).to.have.keys(['tirePressureWarning', 'deepSleepInProgress', 'firmwareUpgradeInProgress', 'remoteStartStatus', 'chargingStatus', 'plugStatus', 'ignitionStatus', 'doorStatus', 'lockStatus', 'alarm']);
      expect(s.remoteStartStatus).to.have.keys(['status', 'duration', 'timeStamp']);
      expect(s.remoteStartStatus.timeStamp).to.match(/^\d\d-\d\d-\d{4} \d\d:\d\d:\d\d$/);
      expect(s.chargingStatus).to.have.keys(['value', 'timeStamp', 'chargeStartTime', 'chargeEndTime']);
      expect(s.chargingStatus.value).to.equal('EvseNotDetected');
      expect(s.plugStatus.value).to.equal(false);
      expect(s.ignitionStatus.value).to.equal('OFF');
      expect(s.doorStatus).to.have.length(6);
      expect(s.doorStatus[0]).to.deep.include({ vehicleDoor: 'UNSPECIFIED_FRONT', vehicleOccupantRole: 'DRIVER', value: 'CLOSED' });
      expect(s.lockStatus.value).to.be.oneOf(['LOCKED', 'UNLOCKED']);
      expect(s.lockStatus.timestamp).to.match(/Z$/);
      const loc = v.vehicleLocation;
      expect(loc.latitude).to.be.a('string').and.match(/^42\.\d{6}$/);
      expect(loc.longitude).to.be.a('string').and.match(/^-83\.\d{6}$/);
      expect(loc.speed).to.equal(0);
      expect(loc.direction).to.be.oneOf(['North', 'NorthEast', 'East', 'SouthEast', 'South', 'SouthWest', 'West', 'NorthWest']);
    });

    it('leaves vehicleLocation out unless the token has read:location; GET location needs it', async () => {
      const { token } = mintToken(sim, 'owner-1', ['read:status'], { clientId: 'no-location-app', lifetimeSeconds: YEAR_SECONDS });
      const info = await get(`${V3}/${truck.id}`, token);
      expect(info.status).to.equal(200);
      expect(info.json.vehicle).not.to.have.property('vehicleLocation');
      expect(info.json.vehicle).to.have.property('vehicleStatus');
      const loc = await get(`${V1}/${truck.id}/location`, token);
      expect(loc.status).to.equal(403);
      expect(loc.json.scope).to.equal('read:location');
    });

    it('shows an EV the old docs spell "EV", and a shared vehicle to both its owners', async () => {
      const fleetToken = mintToken(sim, 'owner-fleet', ALL, { lifetimeSeconds: YEAR_SECONDS }).token;
      const van = await get(`${OLD}/${eTransit.id}`, fleetToken);
      expect(van.json.vehicle.engineType).to.equal('EV');
      expect(van.json.vehicle.vehicleDetails.fuelLevel.value).to.equal(null);
      const partner = mintToken(sim, 'owner-2', ['read:status'], { lifetimeSeconds: YEAR_SECONDS }).token;
      const list = await get(V3, partner);
      expect(list.json.vehicles.map((v) => v.vehicleId)).to.deep.equal([machE.id]);
      expect((await get(`${V3}/${machE.id}`, partner)).status).to.equal(200);
    });
  });

  describe('refusals, in the pipeline order', () => {
    it('401s a missing or wrong Application-Id before looking at the token', async () => {
      const missing = await get(V3, full, { appId: null });
      expect(missing.status).to.equal(401);
      expect(missing.json).to.deep.equal({ statusCode: 401, message: 'Access denied due to missing subscription key.' });
      const wrong = await get(V3, 'not-even-a-token', { appId: '00000000-0000-0000-0000-000000000000' });
      expect(wrong.status).to.equal(401);
      expect(wrong.json).to.deep.equal({ statusCode: 401, message: 'Access denied due to invalid subscription key.' });
      expect((await get(V3, full, { appId: APP_ID.toUpperCase() })).status).to.equal(200);
    });

    it('401s a missing, unknown, expired or revoked token with invalid_token', async () => {
      const expectInvalid = (r: Reply, words: RegExp) => {
        expect(r.status).to.equal(401);
        expect(r.json.error).to.equal('invalid_token');
        expect(r.json.error_description).to.match(words);
        expect(r.headers.get('www-authenticate')).to.match(/^Bearer error="invalid_token", error_description="[^"]+"$/);
      };
      expectInvalid(await call('GET', V3), /No access token/);
      expectInvalid(await get(V3, 'made-up-token'), /not recognised/);
      expectInvalid(await call('GET', V3, { headers: { Authorization: `Basic ${full}` } }), /No access token/);

      const shortLived = mintToken(sim, 'owner-1', ALL, { clientId: 'short-lived-app', lifetimeSeconds: 60 });
      expect((await get(V3, shortLived.token)).status).to.equal(200);
      sim.world.clock.advance(61 * SEC);
      const expired = await get(V3, shortLived.token);
      expectInvalid(expired, /expired/);
      expect(JSON.stringify(expired.body)).not.to.contain(shortLived.token);

      const revoked = mintToken(sim, 'owner-1', ALL, { clientId: 'revoked-app', lifetimeSeconds: YEAR_SECONDS });
      expect((await get(V3, revoked.token)).status).to.equal(200);
      sim.world.store.revokeGrant(revoked.grantId, 'test');
      const since = lastSeq();
      expectInvalid(await get(`${V3}/${truck.id}`, revoked.token), /revoked/);
      const knocking = auditSince(since).filter((e) => e.clientId === 'revoked-app');
      expect(knocking.map((e) => [e.outcome, e.httpStatus])).to.deep.equal([['denied', 401]]);
      expect(knocking[0]).not.to.have.property('vehicleId');
    });

    it('403s a caller outside the grant\u2019s IP allow-list, audits it and alerts the owner once', async () => {
      const app = mintToken(sim, 'owner-1', ALL, { clientId: 'ip-listed-app', lifetimeSeconds: YEAR_SECONDS });
      const grant = sim.world.store.grants.get(app.grantId)!;
      grant.ipAllowList = ['10.0.0.0/8'];
      const since = lastSeq();
      const alertsBefore = sim.world.alerts.all().length;
      const refused = await get(`${V3}/${truck.id}`, app.token);
      expect(refused.status).to.equal(403);
      expect(refused.json).to.have.keys(['errorCode', 'errorMessage']);
      expect(refused.json.errorCode).to.equal('403');
      await get(`${V3}/${truck.id}`, app.token);
      const records = auditSince(since).filter((e) => e.clientId === 'ip-listed-app');
      expect(records).to.have.length(2);
      expect(records[0]).to.include({ clientId: 'ip-listed-app', outcome: 'denied', httpStatus: 403, vehicleId: truck.id, action: 'status.read' });
      const alerts = sim.world.alerts.all().slice(alertsBefore);
      expect(alerts.map((a) => a.kind)).to.deep.equal(['ip-blocked']);
      expect(alerts[0]).to.include({ ownerId: 'owner-1', clientId: 'ip-listed-app' });

      // No proxy is trusted by default: a header naming an allowed address changes nothing.
      expect((await get(`${V3}/${truck.id}`, app.token, { headers: { 'X-Forwarded-For': '10.20.30.40' } })).status).to.equal(403);
      grant.ipAllowList = ['127.0.0.1'];
      expect((await get(`${V3}/${truck.id}`, app.token)).status).to.equal(200);
      expect((await get(`${V3}/${truck.id}`, app.token, { headers: { 'X-Forwarded-For': '10.20.30.40' } })).status, 'the socket, not the header').to.equal(200);
      grant.ipAllowList = ['::1', '127.0.0.0/8'];
      expect((await get(`${V3}/${truck.id}`, app.token)).status).to.equal(200);
    });

    describe('judges the socket address, not X-Forwarded-For', () => {
      /** A GET from a chosen loopback address (127.0.0.0/8 is all loopback on Linux). */
      const getFrom = (localAddress: string, path: string, token: string, headers: Record<string, string> = {}, on = sim) =>
        requestFrom(`${on.url}${path}`, { localAddress, headers: { Authorization: `Bearer ${token}`, 'Application-Id': APP_ID, ...headers } });

      it('lets 127.0.0.2 through an allow-list of 127.0.0.2 and refuses 127.0.0.1, whatever it claims', async () => {
        const app = mintToken(sim, 'owner-1', ALL, { clientId: 'socket-listed-app', lifetimeSeconds: YEAR_SECONDS });
        sim.world.store.grants.get(app.grantId)!.ipAllowList = ['127.0.0.2'];
        const path = `${V3}/${truck.id}`;
        const since = lastSeq();
        expect((await getFrom('127.0.0.1', path, app.token)).status).to.equal(403);
        expect((await getFrom('127.0.0.2', path, app.token)).status).to.equal(200);
        for (const claim of ['127.0.0.2', '127.0.0.2, 127.0.0.1', '10.0.0.1, 127.0.0.2']) {
          expect((await getFrom('127.0.0.1', path, app.token, { 'X-Forwarded-For': claim })).status, claim).to.equal(403);
        }
        expect((await getFrom('127.0.0.2', path, app.token, { 'X-Forwarded-For': '10.9.9.9' })).status, 'a header cannot refuse an allowed peer either').to.equal(200);
        const records = auditSince(since).filter((e) => e.clientId === 'socket-listed-app');
        expect(records.map((e) => [e.ip, e.httpStatus])).to.deep.equal([
          ['127.0.0.1', 403],
          ['127.0.0.2', 200],
          ['127.0.0.1', 403],
          ['127.0.0.1', 403],
          ['127.0.0.1', 403],
          ['127.0.0.2', 200],
        ]);
      });

      it('believes X-Forwarded-For only from a proxy named in trustProxy', async () => {
        const proxied = await withSimulator({ trustProxy: '127.0.0.3' });
        try {
          const app = mintToken(proxied, 'owner-1', ALL, { clientId: 'proxied-app', lifetimeSeconds: YEAR_SECONDS });
          proxied.world.store.grants.get(app.grantId)!.ipAllowList = ['127.0.0.2'];
          const path = `${V3}/${proxied.world.fleet.ownedBy('owner-1')[0].id}`;
          const viaProxy = await getFrom('127.0.0.3', path, app.token, { 'X-Forwarded-For': '127.0.0.2' }, proxied);
          expect(viaProxy.status, 'the trusted proxy names an allowed caller').to.equal(200);
          expect((await getFrom('127.0.0.3', path, app.token, { 'X-Forwarded-For': '127.0.0.9' }, proxied)).status, 'the trusted proxy names another caller').to.equal(403);
          expect((await getFrom('127.0.0.3', path, app.token, {}, proxied)).status, 'the proxy itself is not on the list').to.equal(403);
          expect((await getFrom('127.0.0.1', path, app.token, { 'X-Forwarded-For': '127.0.0.2' }, proxied)).status, 'an untrusted peer').to.equal(403);
          const ips = proxied.world.audit.all().filter((e) => e.clientId === 'proxied-app').map((e) => e.ip);
          expect(ips).to.deep.equal(['127.0.0.2', '127.0.0.9', '127.0.0.3', '127.0.0.1']);
        } finally {
          await proxied.close();
        }
      });

      it('refuses to start with a trustProxy express cannot read', async () => {
        let failure: unknown;
        try {
          const started = await withSimulator({ trustProxy: 'not-an-address' });
          await started.close();
        } catch (err) {
          failure = err;
        }
        expect(failure).to.be.instanceOf(Error);
        expect((failure as Error).message).to.match(/trust proxy/);
      });
    });

    it('answers injected 5xx and 429 faults after authentication, and audits them', async () => {
      sim.world.faults.errorRate = 1;
      const since = lastSeq();
      const down = await get(`${V3}/${truck.id}`);
      expect(down.status).to.equal(503);
      expect(down.json).to.deep.equal({ errorCode: '503', errorMessage: 'Service Unavailable' });
      expect((await get(`${V3}/${truck.id}`, 'bad')).status, 'token checked first').to.equal(401);
      sim.world.faults.errorRate = 0;
      sim.world.faults.rateLimitRate = 1;
      sim.world.faults.retryAfterSeconds = 17;
      const limited = await post(`${V1}/${truck.id}/lock`);
      expect(limited.status).to.equal(429);
      expect(limited.headers.get('retry-after')).to.equal('17');
      expect(limited.json.errorCode).to.equal('429');
      expect(limited.json.errorMessage).to.be.a('string');
      expect(auditSince(since).filter((e) => e.httpStatus !== undefined).map((e) => [e.action, e.outcome, e.httpStatus])).to.deep.equal([
        ['status.read', 'failed', 503],
        ['lock', 'rate-limited', 429],
      ]);
    });

    it('rate-limits per vehicle and per app with Retry-After from the real limiter', async () => {
      const limits = sim.world.rateLimiter.settings;
      const saved = { ...limits };
      try {
        limits.perVehiclePerMinute = 2;
        sim.world.rateLimiter.reset();
        expect((await get(`${V3}/${truck.id}`)).status).to.equal(200);
        expect((await get(`${V3}/${truck.id}`)).status).to.equal(200);
        const third = await get(`${V3}/${truck.id}`);
        expect(third.status).to.equal(429);
        expect(third.json.errorCode).to.equal('429');
        expect(third.json.errorMessage).to.match(/vehicle/);
        expect(Number(third.headers.get('retry-after'))).to.be.within(1, 30);
        // Another vehicle and the list have their own budgets; a vehicle outside the grant spends none.
        expect((await get(`${V3}/${machE.id}`)).status).to.equal(200);
        expect((await get(V3)).status).to.equal(200);
        sim.world.clock.advance(30 * SEC);
        expect((await get(`${V3}/${truck.id}`)).status).to.equal(200);

        limits.perVehiclePerMinute = 0;
        limits.perClientPerMinute = 3;
        sim.world.rateLimiter.reset();
        const other = mintToken(sim, 'owner-1', ALL, { clientId: 'other-app', lifetimeSeconds: YEAR_SECONDS }).token;
        for (let i = 0; i < 3; i++) expect((await get(V3)).status).to.equal(200);
        const over = await get(`${V3}/${machE.id}`);
        expect(over.status).to.equal(429);
        expect(over.json.errorMessage).to.match(/app/);
        expect(Number(over.headers.get('retry-after'))).to.be.within(1, 20);
        const refusedAt = lastSeq();
        expect(sim.world.audit.all().at(-1)).to.include({ clientId: 'demo-client', outcome: 'rate-limited', httpStatus: 429, vehicleId: machE.id });
        expect((await get(V3, other)).status, 'another app has its own budget').to.equal(200);
        expect(auditSince(refusedAt).filter((e) => e.clientId === 'other-app').map((e) => e.outcome)).to.deep.equal(['ok']);
      } finally {
        Object.assign(limits, saved);
      }
    });

    it('400s a malformed vehicle id, 404s an unknown one, 401s one outside the grant', async () => {
      const bad = await get(`${V3}/not-a-vehicle-id`);
      expect(bad.status).to.equal(400);
      expect(bad.json.errorCode).to.equal('400');
      expect(bad.json.errorMessage).to.be.a('string');
      expect((await post(`${V1}/${'g'.repeat(32)}/lock`)).status).to.equal(400);
      const unknown = await get(`${V3}/${'0'.repeat(32)}`);
      expect(unknown.status).to.equal(404);
      expect(unknown.json).to.deep.equal({ error: { code: 4002, statusCode: 'NOT_FOUND' }, status: 'FAILED' });
      const since = lastSeq();
      const foreign = await get(`${V3}/${transit.id}`);
      expect(foreign.status).to.equal(401);
      expect(foreign.json).to.deep.equal({ error: { code: 3000, title: 'Unauthorized user', statusCode: 'UNAUTHORIZED' }, status: 'FAILED', commandStatus: 'FAILED' });
      const record = auditSince(since)[0];
      expect(record).to.include({ outcome: 'denied', httpStatus: 401 });
      expect(record, 'another owner\u2019s vehicle is never named').not.to.have.property('vehicleId');
      expect((await get(`${V3}/${truck.id.toUpperCase()}`)).status, 'ids are case-insensitive').to.equal(200);
    });

    const SCOPED: [string, string, string][] = [
      ['GET', '/{id}', 'read:status'],
      ['GET', '/{id}/chargeSchedules', 'read:status'],
      ['GET', '/{id}/departureTimes', 'read:status'],
      ['GET', '/{id}/images/thumbnail?make=F&model=x&year=2023', 'read:status'],
      ['POST', '/{id}/status', 'read:status'],
      ['POST', '/{id}/wake', 'read:status'],
      ['GET', '/{id}/location', 'read:location'],
      ['POST', '/{id}/location', 'read:location'],
      ['POST', '/{id}/lock', 'command:lock'],
      ['POST', '/{id}/unlock', 'command:lock'],
      ['POST', '/{id}/startEngine', 'command:remote-start'],
      ['POST', '/{id}/stopEngine', 'command:remote-start'],
      ['POST', '/{id}/signal', 'command:horn-lights'],
      ['POST', '/{id}/startCharge', 'command:charge'],
      ['POST', '/{id}/stopCharge', 'command:charge'],
    ];
    for (const [method, path, scope] of SCOPED) {
      it(`${method} ${path} without ${scope}: 403 naming the scope, audited as denied`, async () => {
        const { token } = mintToken(sim, 'owner-1', ALL.filter((s) => s !== scope), { clientId: `lacks-${scope}` });
        const since = lastSeq();
        const res = await call(method, `${V1}${path.replace('{id}', machE.id)}`, { token });
        expect(res.status).to.equal(403);
        expect(res.headers.get('www-authenticate')).to.match(new RegExp(`^Bearer error="insufficient_scope", scope="${scope}"`));
        expect(res.json.error).to.equal('insufficient_scope');
        expect(res.json.scope).to.equal(scope);
        expect(res.json.error_description).to.contain(scope);
        const records = auditSince(since).filter((e) => e.clientId === `lacks-${scope}`);
        expect(records).to.have.length(1);
        expect(records[0]).to.include({ outcome: 'denied', httpStatus: 403, vehicleId: machE.id, clientId: `lacks-${scope}` });
      });
    }

    it('lists with any valid token, even one without scopes', async () => {
      const { token } = mintToken(sim, 'owner-1', [], { clientId: 'no-scopes-app', lifetimeSeconds: YEAR_SECONDS });
      expect((await get(V3, token)).status).to.equal(200);
      expect((await get(`${V3}/${truck.id}`, token)).status).to.equal(403);
    });
  });

  describe('commands over simulated time', () => {
    it('completes a lock after the delay and shows it in the info body and statusrefresh', async () => {
      expect(sim.world.fleet.patch(escape.id, { locked: false })).to.equal(undefined);
      const accepted = await post(`${V1}/${escape.id}/lock`);
      expect(accepted.status).to.equal(202);
      expect(accepted.headers.get('vehicleid')).to.equal(escape.id);
      const id = accepted.json.commandId;
      sim.world.clock.advance(3 * SEC);
      expect((await get(`${V1}/${escape.id}/lock/${id}`)).json.commandStatus).to.equal('PENDINGRESPONSE');
      expect((await get(`${V3}/${escape.id}`)).json.vehicle.vehicleStatus.lockStatus.value).to.equal('UNLOCKED');
      sim.world.clock.advance(1 * SEC);
      expect((await get(`${V1}/${escape.id}/lock/${id}`)).json).to.deep.equal({ status: 'SUCCESS', commandStatus: 'COMPLETED', commandId: id });
      const info = (await get(`${V3}/${escape.id}`)).json.vehicle.vehicleStatus;
      expect([info.lockStatus.value, info.alarm.value]).to.deep.equal(['LOCKED', 'SET']);

      const { final } = await runCommand(OLD, escape, 'status');
      expect(final.json.commandStatus).to.equal('COMPLETED');
      expect(final.json.vehicleStatus.lockStatus.value).to.equal('LOCKED');
      expect(final.json.vehicleStatus.alarm.value).to.equal('SET');
      expect(final.json.vehicleStatus.lockStatus.timestamp).to.match(/Z$/);
    });

    it('fails a lock with a door ajar', async () => {
      expect(sim.world.fleet.patch(escape.id, { locked: false, doorsOpen: ['REAR_LEFT'] })).to.equal(undefined);
      try {
        const since = lastSeq();
        const { final, commandId } = await runCommand(V1, escape, 'lock');
        // failureReason is the simulator's extension: Ford's FAILED gives no reason.
        expect(final.json).to.deep.equal({ status: 'SUCCESS', commandStatus: 'FAILED', commandId, failureReason: 'door ajar: REAR_LEFT' });
        const v = (await get(`${V3}/${escape.id}`)).json.vehicle.vehicleStatus;
        expect(v.lockStatus.value).to.equal('UNLOCKED');
        expect(v.doorStatus.find((d) => d.vehicleDoor === 'REAR_LEFT')?.value).to.equal('OPEN');
        const outcome = auditSince(since).find((e) => e.action === 'lock' && e.httpStatus === undefined);
        expect(outcome).to.include({ outcome: 'failed', vehicleId: escape.id, ownerId: 'owner-1' });
        expect(outcome?.detail).to.contain('door ajar: REAR_LEFT');
      } finally {
        sim.world.fleet.patch(escape.id, { doorsOpen: [] });
      }
    });

    it('fails every command of an offline vehicle and keeps its data stale', async () => {
      const before = (await get(`${V3}/${truck.id}`)).json.vehicle;
      sim.world.faults.offlineVehicles = [truck.id];
      expect(sim.world.fleet.patch(truck.id, { driving: true, speedKph: 60 })).to.equal(undefined);
      try {
        const { final } = await runCommand(V1, truck, 'unlock');
        expect(final.json.commandStatus).to.equal('FAILED');
        sim.world.clock.advance(10 * MIN);
        const stale = (await get(`${V3}/${truck.id}`)).json.vehicle;
        expect(stale.lastUpdated).to.equal(before.lastUpdated);
        expect(stale.vehicleDetails.odometer).to.equal(before.vehicleDetails.odometer);
        expect(stale.vehicleLocation).to.deep.equal(before.vehicleLocation);
      } finally {
        sim.world.faults.offlineVehicles = [];
        sim.world.fleet.patch(truck.id, { driving: false });
      }
      const fresh = (await get(`${V3}/${truck.id}`)).json.vehicle;
      expect(fresh.vehicleDetails.odometer).to.be.greaterThan(before.vehicleDetails.odometer + 9);
    });

    it('forgets command ids after their lifetime: 401 with code 3000', async () => {
      const accepted = await post(`${V1}/${truck.id}/signal`);
      const path = `${V1}/${truck.id}/signal/${accepted.json.commandId}`;
      sim.world.clock.advance(119 * SEC);
      expect((await get(path)).status).to.equal(200);
      sim.world.clock.advance(1 * SEC);
      const gone = await get(path);
      expect(gone.status).to.equal(401);
      expect(gone.json).to.deep.equal({ error: { code: 3000, title: 'Unauthorized user', statusCode: 'UNAUTHORIZED' }, status: 'FAILED', commandStatus: 'FAILED' });
      expect((await get(`${V1}/${truck.id}/signal/${'f'.repeat(32)}`)).status).to.equal(401);
      expect((await get(`${V1}/${machE.id}/signal/${accepted.json.commandId}`)).status, 'another vehicle').to.equal(401);
    });

    it('shows a command only to the app and owner that issued it, under its own path; 401 code 3000 otherwise', async () => {
      const FAILED_3000 = { error: { code: 3000, title: 'Unauthorized user', statusCode: 'UNAUTHORIZED' }, status: 'FAILED', commandStatus: 'FAILED' };
      // Sky is shared by owner-1 and owner-2: the partner's token reaches the vehicle, not owner-1's commands.
      const otherApp = mintToken(sim, 'owner-1', ALL, { clientId: 'snooping-app', lifetimeSeconds: YEAR_SECONDS }).token;
      const partner = mintToken(sim, 'owner-2', ALL, { lifetimeSeconds: YEAR_SECONDS }).token;
      const idOf = async (command: string): Promise<string> => {
        const accepted = await post(`${V1}/${machE.id}/${command}`);
        expect(accepted.status, command).to.equal(202);
        return accepted.json.commandId;
      };
      const lock = await idOf('lock');
      const refresh = await idOf('status');
      const locate = await idOf('location');
      const base = `${V1}/${machE.id}`;
      const since = lastSeq();
      const refusals: [string, string][] = [
        [`${base}/lock/${lock}`, otherApp],
        [`${base}/lock/${lock}`, partner],
        [`${base}/statusrefresh/${refresh}`, otherApp],
        [`${base}/statusrefresh/${refresh}`, partner],
        [`${base}/location/${locate}`, otherApp],
        [`${base}/unlock/${lock}`, full],
        [`${base}/signal/${lock}`, full],
        [`${base}/statusrefresh/${lock}`, full],
        [`${base}/lock/${refresh}`, full],
        [`${base}/location/${refresh}`, full],
        [`${base}/statusrefresh/${locate}`, full],
        [`${V3}/${machE.id}/wake/${locate}`, full],
      ];
      for (const [path, token] of refusals) {
        const reply = await get(path, token);
        expect(reply.status, path).to.equal(401);
        expect(reply.json, path).to.deep.equal(FAILED_3000);
      }
      const refused = auditSince(since).filter((e) => e.httpStatus === 401);
      expect(refused).to.have.length(refusals.length);
      expect(refused.every((e) => e.outcome === 'failed' && e.detail.includes('unknown or expired command id'))).to.equal(true);
      expect(refused.filter((e) => e.clientId === 'snooping-app')).to.have.length(3);
      expect(refused.filter((e) => e.ownerId === 'owner-2')).to.have.length(2);

      sim.world.clock.advance(4 * SEC);
      expect((await get(`${base}/lock/${lock}`)).json).to.deep.equal({ status: 'SUCCESS', commandStatus: 'COMPLETED', commandId: lock });
      expect((await get(`${OLD}/${machE.id}/lock/${lock}`)).status, 'any spelling of the same path').to.equal(200);
      const result = await get(`${base}/statusrefresh/${refresh}`);
      expect(result.json.commandStatus).to.equal('COMPLETED');
      expect(result.json.vehicleStatus.lockStatus.value).to.equal('LOCKED');
      expect((await get(`${base}/location/${locate}`)).json.commandStatus).to.equal('COMPLETED');
      // Still nothing for the others once settled.
      expect((await get(`${base}/statusrefresh/${refresh}`, partner)).status).to.equal(401);
      expect((await get(`${base}/lock/${lock}`, otherApp)).status).to.equal(401);
    });

    it('406s charge commands and EV schedules on ICE; accepts them on BEV, EV and PHEV', async () => {
      const since = lastSeq();
      for (const command of ['startCharge', 'stopCharge']) {
        const refused = await post(`${V1}/${truck.id}/${command}`);
        expect(refused.status).to.equal(406);
        expect(refused.json).to.deep.equal({ error: { code: 4006, statusCode: 'NOT_ACCEPTABLE' }, status: 'FAILED' });
      }
      expect(auditSince(since).filter((e) => e.vehicleId === truck.id).map((e) => [e.action, e.outcome, e.httpStatus])).to.deep.equal([
        ['charge.start', 'failed', 406],
        ['charge.stop', 'failed', 406],
      ]);
      expect((await get(`${V1}/${truck.id}/chargeSchedules`)).status).to.equal(406);
      expect((await get(`${V1}/${truck.id}/departureTimes`)).status).to.equal(406);
      expect((await post(`${V1}/${escape.id}/stopCharge`)).status).to.equal(202);
      expect((await post(`${V1}/${machE.id}/stopCharge`)).status).to.equal(202);
      const fleetToken = mintToken(sim, 'owner-fleet', ALL, { lifetimeSeconds: YEAR_SECONDS }).token;
      expect((await post(`${V1}/${eTransit.id}/startCharge`, fleetToken)).status).to.equal(202);
      expect((await post(`${V1}/${transit.id}/startCharge`, fleetToken)).status).to.equal(406);
      sim.world.clock.advance(5 * SEC);
    });

    it('runs a remote start for its window, then turns the engine off', async () => {
      const { final } = await runCommand(V1, truck, 'startEngine');
      expect(final.json.commandStatus).to.equal('COMPLETED');
      let s = (await get(`${V3}/${truck.id}`)).json.vehicle.vehicleStatus;
      expect(s.remoteStartStatus).to.include({ status: 'ENGINE_RUNNING', duration: 10 });
      expect(s.ignitionStatus.value).to.equal('ON');
      sim.world.clock.advance(5 * MIN);
      s = (await get(`${V3}/${truck.id}`)).json.vehicle.vehicleStatus;
      expect(s.remoteStartStatus).to.include({ status: 'ENGINE_RUNNING', duration: 5 });
      sim.world.clock.advance(5 * MIN);
      s = (await get(`${V3}/${truck.id}`)).json.vehicle.vehicleStatus;
      expect(s.remoteStartStatus).to.include({ status: 'ENGINE_STOPPED', duration: 0 });
      expect(s.ignitionStatus.value).to.equal('OFF');
    });

    it('charges the battery up to the target, then reports the target reached', async () => {
      expect(sim.world.fleet.patch(machE.id, { batteryPercent: 50, chargeTargetPercent: 80, charging: false, chargerType: 'AC', chargerKw: 10.5 })).to.equal(undefined);
      const { final } = await runCommand(V1, machE, 'startCharge');
      expect(final.json.commandStatus).to.equal('COMPLETED');
      let d = (await get(`${V3}/${machE.id}`)).json.vehicle;
      expect(d.vehicleStatus.chargingStatus.value).to.equal('ChargingAC');
      expect(d.vehicleStatus.chargingStatus.chargeStartTime).to.match(/^\d\d-\d\d-\d{4} \d\d:\d\d:\d\d$/);
      expect(d.vehicleStatus.plugStatus.value).to.equal(true);
      const start = Number(d.vehicleDetails.batteryChargeLevel.value);
      sim.world.clock.advance(60 * MIN);
      d = (await get(`${V3}/${machE.id}`)).json.vehicle;
      expect(d.vehicleDetails.batteryChargeLevel.value).to.be.closeTo(start + 10.4, 0.2);
      expect(d.vehicleDetails.batteryChargeLevel.distanceToEmpty).to.be.greaterThan(200);
      sim.world.clock.advance(5 * 60 * MIN);
      d = (await get(`${V3}/${machE.id}`)).json.vehicle;
      expect(d.vehicleDetails.batteryChargeLevel.value).to.equal(80);
      expect(d.vehicleStatus.chargingStatus.value).to.equal('ChargeTargetReached');
      expect(d.vehicleStatus.chargingStatus.chargeEndTime).to.match(/^\d\d-\d\d-\d{4} \d\d:\d\d:\d\d$/);
      expect((await get(`${V1}/${machE.id}/chargeSchedules`)).json.chargeSchedules[0].desiredChargeLevel).to.equal(80);
    });

    it('drives: the odometer and position move, fuel drains, speed and direction show', async () => {
      const fleetToken = mintToken(sim, 'owner-fleet', ALL, { lifetimeSeconds: YEAR_SECONDS }).token;
      const before = (await get(`${V3}/${transit.id}`, fleetToken)).json.vehicle;
      expect(sim.world.fleet.patch(transit.id, { driving: true })).to.equal(undefined);
      sim.world.clock.advance(15 * MIN);
      const during = (await get(`${V3}/${transit.id}`, fleetToken)).json.vehicle;
      expect(during.vehicleLocation.speed).to.be.greaterThan(0);
      expect(during.vehicleStatus.ignitionStatus.value).to.equal('ON');
      expect(during.vehicleDetails.odometer).to.be.greaterThan(before.vehicleDetails.odometer + 5);
      expect(Number(during.vehicleDetails.fuelLevel.value)).to.be.lessThan(Number(before.vehicleDetails.fuelLevel.value));
      expect([during.vehicleLocation.latitude, during.vehicleLocation.longitude]).not.to.deep.equal([before.vehicleLocation.latitude, before.vehicleLocation.longitude]);
      // Still driving between the two calls: the same road, a few centimetres on.
      const located = (await get(`${V1}/${transit.id}/location`, fleetToken)).json.vehicleLocation;
      expect(Number(located.latitude)).to.be.closeTo(Number(during.vehicleLocation.latitude), 1e-3);
      expect(Number(located.longitude)).to.be.closeTo(Number(during.vehicleLocation.longitude), 1e-3);
      expect(located.direction).to.equal(during.vehicleLocation.direction);
      expect(sim.world.fleet.patch(transit.id, { driving: false })).to.equal(undefined);
      expect((await get(`${V1}/${transit.id}/location`, fleetToken)).json.vehicleLocation.speed).to.equal(0);
    });
  });

  describe('wire errors and robustness', () => {
    it('405s a wrong method on a known path, with Allow', async () => {
      const getLock = await get(`${V1}/${truck.id}/lock`);
      expect(getLock.status).to.equal(405);
      expect(getLock.headers.get('allow')).to.equal('POST');
      expect(getLock.json.errorCode).to.equal('405');
      const postInfo = await post(`${V3}/${truck.id}`);
      expect(postInfo.status).to.equal(405);
      expect(postInfo.headers.get('allow')).to.equal('GET, HEAD');
      const deleteLocation = await call('DELETE', `${V1}/${truck.id}/location`, { token: full });
      expect(deleteLocation.headers.get('allow')).to.equal('GET, HEAD, POST');
      expect((await call('PUT', V3, { token: full })).status).to.equal(405);
    });

    it('404s unknown paths under the API prefixes in Ford\u2019s shape', async () => {
      for (const path of [`${V3}/${truck.id}/nope`, `${V1}/${truck.id}/statusrefresh`, '/api/fordconnect/v9/vehicles', '/api/fordconnect']) {
        const res = await get(path);
        expect(res.status, path).to.equal(404);
        expect(res.json.errorCode, path).to.equal('404');
        expect(res.json.errorMessage, path).to.be.a('string');
      }
    });

    it('400s a malformed JSON body, a bad image query and a bad URL encoding; never crashes', async () => {
      const malformed = await post(`${V1}/${truck.id}/lock`, full, { body: '{"not json' });
      expect(malformed.status).to.equal(400);
      expect(malformed.json).to.deep.equal({ errorCode: '400', errorMessage: 'Malformed JSON body' });
      const image = await get(`${V1}/${truck.id}/images/full?make=Tesla&model=x&year=2022`);
      expect(image.status).to.equal(400);
      expect(image.json.errorCode).to.equal('400');
      expect((await get(`${V1}/${truck.id}/images/full?make=F&year=2022`)).status).to.equal(400);
      expect((await get(`${V1}/${truck.id}/images/full?make=F&model=F-150&year=22`)).status).to.equal(400);
      expect((await get(`${V1}/${truck.id}/images/full?make=F&model=F-150&year=2022&year=2023`)).status).to.equal(400);
      const encoded = await get(`${V3}/%E0%A4%A`);
      expect(encoded.status).to.equal(400);
      expect((await post(`${V1}/${truck.id}/lock`, full, { body: '{"a":1}' })).status).to.equal(202);
      expect((await get(V3)).status).to.equal(200);
      sim.world.clock.advance(5 * SEC);
    });

    it('adds small injected latency to every API answer', async () => {
      sim.world.faults.latencyMs = 60;
      const started = Date.now();
      expect((await get(V3)).status).to.equal(200);
      expect(Date.now() - started).to.be.within(55, 1000);
    });

    it('counts every request and each operation', async () => {
      sim.world.counts.reset();
      await get(V3);
      await get(`${V3}/${truck.id}`);
      const lock = await post(`${V1}/${truck.id}/lock`);
      await get(`${V1}/${truck.id}/lock/${lock.json.commandId}`);
      await get(`${V1}/${truck.id}/lock`);
      await get(V3, 'bad');
      const counts = sim.world.counts.snapshot();
      expect(counts).to.include({
        'api.total': 6,
        'api.vehicles.list': 2,
        'api.vehicle.info': 1,
        'api.command.lock': 1,
        'api.command.status': 1,
        'api.method-not-allowed': 1,
      });
      sim.world.clock.advance(5 * SEC);
    });
  });

  describe('owner audit', () => {
    it('writes one record per access and one per command outcome, never a token', async () => {
      const since = lastSeq();
      await get(V3);
      await get(`${V3}/${machE.id}`);
      await get(`${V1}/${machE.id}/location`);
      const { commandId } = await runCommand(V1, machE, 'signal');
      // Commands of other tests may settle meanwhile (wall-clock nudges): look at this vehicle only.
      const records = auditSince(since).filter((e) => e.vehicleId === undefined || e.vehicleId === machE.id);
      expect(records.map((e) => [e.action, e.outcome, e.httpStatus ?? null])).to.deep.equal([
        ['status.read', 'ok', 200],
        ['status.read', 'ok', 200],
        ['location.read', 'ok', 200],
        ['horn-lights', 'ok', 202],
        ['status.read', 'ok', 200],
        ['horn-lights', 'ok', null],
        ['status.read', 'ok', 200],
      ]);
      for (const e of records) {
        expect(e).to.include({ ownerId: 'owner-1', clientId: 'demo-client', ip: '127.0.0.1' });
        expect(JSON.stringify(e)).not.to.contain(full);
      }
      expect(records[0]).not.to.have.property('vehicleId');
      expect(records.slice(1).every((e) => e.vehicleId === machE.id)).to.equal(true);
      expect(records[5].detail).to.contain(commandId).and.contain('COMPLETED');
      expect(records[2].detail).not.to.match(/42\.\d/);
    });

    it('keeps the audit out of the way of refused-before-authentication calls', async () => {
      const since = lastSeq();
      await get(V3, full, { appId: null });
      await get(V3, 'nope');
      expect(auditSince(since)).to.deep.equal([]);
    });
  });

  describe('determinism', () => {
    it('gives two simulators with one seed the same vehicles, and the same command ids only with one command-id secret', async () => {
      const a = await withSimulator({ seed: 99, commandIdSecret: 'test-secret' });
      const b = await withSimulator({ seed: 99, commandIdSecret: 'test-secret' });
      const c = await withSimulator({ seed: 100 });
      const d = await withSimulator({ seed: 99 });
      try {
        const ids = (s: RunningSimulator) => s.world.fleet.list().map((v) => `${v.id}/${v.vin}`);
        expect(ids(a)).to.deep.equal(ids(b));
        expect(ids(c)).not.to.deep.equal(ids(a));
        const commandId = async (s: RunningSimulator) => {
          const token = mintToken(s, 'owner-1', ALL, { lifetimeSeconds: YEAR_SECONDS }).token;
          const v = s.world.fleet.ownedBy('owner-1')[0];
          const res = await fetch(`${s.url}${V1}/${v.id}/lock`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Application-Id': APP_ID } });
          return ((await res.json()) as { commandId: string }).commandId;
        };
        const first = await commandId(a);
        expect(await commandId(b)).to.equal(first);
        // Without the secret (the default) the seed alone does not tell another app which ids exist.
        expect(ids(d)).to.deep.equal(ids(a));
        const unkeyed = await commandId(d);
        expect(unkeyed).to.match(/^[0-9a-f]{32}$/);
        expect(unkeyed).not.to.equal(first);
      } finally {
        await Promise.all([a.close(), b.close(), c.close(), d.close()]);
      }
    });
  });
});
