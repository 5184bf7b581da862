import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { ApiError } from '../../src/lib/api/errors';
import { FconQueryApi, GARAGE_RETRY_MS, vehicleIdFromVin } from '../../src/lib/api/fcon-query';
import { FordConnectV1Api } from '../../src/lib/api/fordconnect-v1';
import { HttpClient, type TokenSource } from '../../src/lib/api/http-client';
import { FORD_APPLICATION_ID } from '../../src/lib/api/presets';
import { assertVehicleId, isVehicleId, type VehicleApi } from '../../src/lib/api/vehicle-api';
import type { RunningSimulator } from '../../src/sim';
import { FCON_QUERY_COUNTS } from '../../src/sim/surfaces/fcon-query';
import type { TelemetryBody } from '../../src/sim/surfaces/fcon-query-format';
import { ALL_CATEGORIES, mintQueryToken, queryGet } from '../helpers/fcon-query';
import { mintToken, withSimulator } from '../helpers/sim';

const YEAR_SECONDS = 365 * 24 * 3600;

function staticTokens(token: string): TokenSource {
  return { getAccessToken: async () => token, tokenAfterRejection: async () => token };
}

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).to.be.instanceOf(ApiError);
  return err as ApiError;
}

const HOSTILE: unknown[] = [
  '../x',
  '../../v3/vehicles',
  '97da2849d73eb438a907d090402c802d/../../x',
  '97da2849d73eb438a907d090402c802d?x=1',
  '97da2849d73eb438a907d090402c802d#x',
  '97da2849d73eb438a907d090402c802d\n',
  '97da2849d73eb438a907d090402c802',
  '97da2849d73eb438a907d090402c802dd',
  'g7da2849d73eb438a907d090402c802d',
  '%2e%2e%2fx',
  'a'.repeat(100_000),
  '1FMCU9J98MUA12345',
  '',
  undefined,
  null,
  42,
  { toString: () => '97da2849d73eb438a907d090402c802d' },
  ['97da2849d73eb438a907d090402c802d'],
];

describe('lib/api/vehicle-api: vehicle id validation', () => {
  it('accepts exactly 32 hexadecimal characters', () => {
    expect(assertVehicleId('97da2849d73eb438a907d090402c802d')).to.equal('97da2849d73eb438a907d090402c802d');
    expect(isVehicleId('97DA2849D73EB438A907D090402C802D')).to.equal(true);
    for (const v of HOSTILE) expect(isVehicleId(v), String(v).slice(0, 40)).to.equal(false);
  });

  it('refuses anything else as bad-request, without repeating the value', () => {
    for (const v of HOSTILE) {
      let err: unknown;
      try {
        assertVehicleId(v);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ApiError);
      expect((err as ApiError).kind).to.equal('bad-request');
      expect((err as ApiError).message).to.match(/32-character hexadecimal/);
      if (typeof v === 'string' && v.length > 0) expect((err as ApiError).message).to.not.include(v.trim());
    }
    expect(() => assertVehicleId('1FMCU9J98MUA12345')).to.throw(/looks like a VIN/);
  });

  describe('no hostile id reaches the wire', () => {
    let server: Server;
    let requests: string[];
    let base: string;

    before(async () => {
      requests = [];
      server = createServer((req: IncomingMessage, res: ServerResponse) => {
        requests.push(`${req.method} ${req.url}`);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => server.close(() => r())));

    it('for every call of both adapters', async () => {
      const http = new HttpClient({ baseUrl: base, tokens: staticTokens('t') });
      const apis: VehicleApi[] = [new FordConnectV1Api(http), new FconQueryApi(http)];
      for (const api of apis) {
        for (const v of HOSTILE) {
          const id = v as string;
          for (const call of [() => api.getStatus(id), () => api.getLocation(id), () => api.requestStatusRefresh(id), () => api.statusRefreshResult(id, 'abc')]) {
            expect((await rejection(call())).kind).to.equal('bad-request');
          }
        }
      }
      // A good vehicle id with a hostile command id is refused too.
      const err = await rejection(new FordConnectV1Api(http).statusRefreshResult('97da2849d73eb438a907d090402c802d', '../lock/x'));
      expect(err.kind).to.equal('bad-request');
      expect(requests).to.deep.equal([]);
    });
  });
});

describe('lib/api/fordconnect-v1 reads and refresh (against the simulator)', () => {
  let sim: RunningSimulator;
  let api: FordConnectV1Api;
  let vehicleId: string;
  let evId: string;

  before(async () => {
    sim = await withSimulator();
    const owned = sim.world.fleet.ownedBy('owner-1');
    vehicleId = owned.find((v) => v.engineType === 'ICE')!.id;
    evId = owned.find((v) => v.engineType === 'BEV' || v.engineType === 'EV')!.id;
    const { token } = mintToken(sim, 'owner-1', ['read:status', 'read:location'], { lifetimeSeconds: YEAR_SECONDS });
    api = new FordConnectV1Api(new HttpClient({ baseUrl: `${sim.url}/api/fordconnect`, tokens: staticTokens(token), headers: { 'Application-Id': FORD_APPLICATION_ID } }));
  });
  after(() => sim.close());

  it('reads a status in SI units, with a raw body that holds no position', async () => {
    sim.world.fleet.patch(vehicleId, { locked: false, fuelPercent: 40, odometerKm: 12345.6, doorsOpen: ['DRIVER'] });
    const before = sim.world.counts.get('api.vehicle.info');
    const { status, raw } = await api.getStatus(vehicleId);
    expect(sim.world.counts.get('api.vehicle.info')).to.equal(before + 1);
    expect(status.vehicleId).to.equal(vehicleId);
    expect(status.lock).to.equal('unlocked');
    expect(status.fuel?.level).to.be.closeTo(40, 0.1);
    expect(status.fuel?.rangeKm).to.be.a('number');
    expect(status.battery).to.equal(undefined);
    expect(status.charging).to.equal(undefined);
    expect(status.odometerKm).to.be.closeTo(12345.6, 0.1);
    expect(status.doors?.driver).to.equal('open');
    expect(status.lastUpdated).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(JSON.stringify(raw)).to.not.include('vehicleLocation');
    expect((raw as { vehicle: { vehicleDetails: unknown } }).vehicle.vehicleDetails).to.be.an('object');
  });

  it('reads an electric vehicle with its charging state', async () => {
    const { status } = await api.getStatus(evId);
    expect(status.engineType).to.equal('BEV');
    expect(status.battery?.level).to.be.within(0, 100);
    expect(status.fuel).to.equal(undefined);
    expect(status.charging?.status).to.be.a('string');
  });

  it('reads the location with numbers for coordinates', async () => {
    const before = sim.world.counts.get('api.vehicle.location');
    const { location, raw } = await api.getLocation(vehicleId);
    expect(sim.world.counts.get('api.vehicle.location')).to.equal(before + 1);
    expect(location.latitude).to.be.a('number').within(-90, 90);
    expect(location.longitude).to.be.a('number').within(-180, 180);
    expect(location.heading).to.be.within(0, 359);
    expect(location.time).to.match(/Z$/);
    expect(raw).to.have.property('vehicleLocation');
  });

  it('asks for a refresh and follows it to completion', async () => {
    sim.world.fleet.patch(vehicleId, { locked: true, alarm: true });
    const commandId = await api.requestStatusRefresh(vehicleId);
    expect(commandId).to.match(/^[0-9a-f]{32}$/);
    const pending = await api.statusRefreshResult(vehicleId, commandId);
    expect(pending.state).to.equal('pending');
    sim.world.clock.advance(10_000);
    const done = await api.statusRefreshResult(vehicleId, commandId);
    expect(done).to.include({ state: 'completed', lock: 'locked', alarm: 'armed' });
  });

  it('reads a commandStatus it does not know as a bad response, not as pending (which would be waited on until the timeout)', async () => {
    const commandId = await api.requestStatusRefresh(vehicleId);
    sim.world.faults.bodyFault = 'wrong-types';
    try {
      const err = await rejection(api.statusRefreshResult(vehicleId, commandId));
      expect(err.kind).to.equal('bad-response');
      expect(err.message).to.equal(`GET /v1/vehicles/${vehicleId}/statusrefresh/${commandId}: commandStatus is a boolean, not one the API documents`);
    } finally {
      sim.world.faults.bodyFault = 'none';
    }
  });

  it('maps the simulator refusals into ApiErrors', async () => {
    const { token } = mintToken(sim, 'owner-1', ['read:status'], { lifetimeSeconds: YEAR_SECONDS });
    const noLocation = new FordConnectV1Api(new HttpClient({ baseUrl: `${sim.url}/api/fordconnect`, tokens: staticTokens(token), headers: { 'Application-Id': FORD_APPLICATION_ID } }));
    const scope = await rejection(noLocation.getLocation(vehicleId));
    expect([scope.kind, scope.scope]).to.deep.equal(['scope', 'read:location']);
    // Without read:location even the vehicle information leaves the position out.
    const { raw } = await noLocation.getStatus(vehicleId);
    expect(JSON.stringify(raw)).to.not.include('latitude');
    expect((await rejection(api.getStatus('0123456789abcdef0123456789abcdef'))).kind).to.equal('not-found');
  });
});

describe('lib/api/fcon-query status and location (against a local server)', () => {
  const VIN = '1FMCU9J98MUA12345';
  const ID = vehicleIdFromVin(VIN);
  let server: Server;
  let base: string;
  let requests: string[];
  let body: unknown;
  let garage: { status: number; body: unknown };

  before(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const answer = req.url === '/v1/garage' ? garage : { status: 200, body };
      // A little latency, so concurrent callers overlap.
      setTimeout(() => res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer.body)), 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    requests = [];
    garage = { status: 200, body: { vin: VIN, nickName: 'Family Escape', modelName: 'Escape', modelYear: '2022', make: 'Ford', engineType: 'PHEV' } };
    body = {
      updateTime: '2026-11-25T08:12:00Z',
      vin: VIN,
      metrics: {
        xevBatteryStateOfCharge: { updateTime: '2026-11-25T08:11:00Z', value: 64 },
        position: { updateTime: '2026-11-25T08:11:00Z', value: { location: { lat: 51.5, lon: -0.12 } } },
      },
    };
  });

  const api = (now?: () => number): FconQueryApi => new FconQueryApi(new HttpClient({ baseUrl: base, tokens: staticTokens('t') }), now ? { now } : {});

  it('reads status and location from one telemetry request when asked together', async () => {
    const client = api();
    const [{ status, raw }, { location }] = await Promise.all([client.getStatus(ID), client.getLocation(ID)]);
    // The garage goes alongside the first status read (its engine type and name), once.
    expect([...requests].sort()).to.deep.equal(['GET /v1/garage', 'GET /v1/telemetry']);
    expect(status).to.deep.equal({
      vehicleId: ID,
      name: 'Family Escape',
      engineType: 'PHEV',
      lock: 'unknown',
      battery: { level: 64, updated: '2026-11-25T08:11:00.000Z' },
      lastUpdated: '2026-11-25T08:12:00.000Z',
    });
    expect(JSON.stringify(raw)).to.not.include(VIN);
    expect(JSON.stringify(raw)).to.not.include('51.5');
    expect(location).to.deep.equal({ latitude: 51.5, longitude: -0.12, time: '2026-11-25T08:11:00.000Z' });
    // Later reads ask the telemetry again, never the garage.
    await client.getStatus(ID);
    await client.getStatus(ID);
    expect(requests.filter((r) => r === 'GET /v1/telemetry')).to.have.length(3);
    expect(requests.filter((r) => r === 'GET /v1/garage')).to.have.length(1);
  });

  it('shares one garage request between concurrent reads, the vehicle list and the schedules check', async () => {
    const client = api();
    const [a, b, list] = await Promise.all([client.getStatus(ID), client.getStatus(ID), client.listVehicles()]);
    expect([a.status.engineType, b.status.engineType, list[0].engineType]).to.deep.equal(['PHEV', 'PHEV', 'PHEV']);
    expect(list[0]).to.include({ vehicleId: ID, nickName: 'Family Escape', modelYear: '2022' });
    expect(requests.filter((r) => r === 'GET /v1/garage')).to.have.length(1);
    await client.listVehicles();
    expect(requests.filter((r) => r === 'GET /v1/garage')).to.have.length(1);
  });

  it('reads the status without the engine type when the garage fails, and asks again only after a pause', async () => {
    let now = 1_000_000;
    const client = api(() => now);
    garage = { status: 500, body: { errorCode: 500, errorMessage: 'down' } };
    const { status } = await client.getStatus(ID);
    expect(status).to.not.have.any.keys('engineType', 'name');
    expect(status.battery?.level).to.equal(64);
    const garageCalls = (): number => requests.filter((r) => r === 'GET /v1/garage').length;
    // The HTTP client may retry a 5xx itself; what matters is that later polls add none.
    const afterFailure = garageCalls();
    expect(afterFailure).to.be.at.least(1);
    garage = { status: 200, body: { vin: VIN, engineType: 'BEV' } };
    now += GARAGE_RETRY_MS - 1;
    expect((await client.getStatus(ID)).status).to.not.have.property('engineType');
    expect(garageCalls()).to.equal(afterFailure);
    now += 1;
    expect((await client.getStatus(ID)).status.engineType).to.equal('BEV');
    expect(garageCalls()).to.equal(afterFailure + 1);
    await client.getStatus(ID);
    expect(garageCalls()).to.equal(afterFailure + 1);
  });

  it("keeps a garage that is not of the telemetry's vehicle, or has no vehicle, out of the status", async () => {
    garage = { status: 200, body: { vin: 'WF0XXXGCDX1234567', engineType: 'BEV', nickName: 'Other' } };
    expect((await api().getStatus(ID)).status).to.not.have.any.keys('engineType', 'name');
    garage = { status: 200, body: { engineType: 'BEV' } };
    expect((await api().getStatus(ID)).status).to.not.have.any.keys('engineType', 'name');
    expect((await rejection(api().listVehicles())).kind).to.equal('bad-response');
  });

  it('refuses a vehicle id that is not the authorized vehicle', async () => {
    const err = await rejection(api().getStatus('0123456789abcdef0123456789abcdef'));
    expect(err.kind).to.equal('not-found');
    expect(err.message).to.not.include(VIN);
  });

  it('has no refresh, and says so without a request', async () => {
    const client = api();
    expect(client.canRefresh).to.equal(false);
    const err = await rejection(client.requestStatusRefresh(ID));
    expect(err.kind).to.equal('not-acceptable');
    expect(err.message).to.match(/no status refresh/);
    expect(requests).to.deep.equal([]);
  });

  it('turns a body without metrics into bad-response', async () => {
    body = { vin: VIN };
    expect((await rejection(api().getStatus(ID))).kind).to.equal('bad-response');
  });
});

describe('lib/api/fcon-query reads (against the simulator, with a Query token)', () => {
  let sim: RunningSimulator;

  before(async () => {
    sim = await withSimulator();
  });
  after(() => sim.close());

  function queryApi(vehicleId: string): FconQueryApi {
    const v = sim.world.fleet.get(vehicleId)!;
    const { token } = mintQueryToken(sim, v.id, ALL_CATEGORIES, { ownerId: v.ownerIds[0], lifetimeSeconds: YEAR_SECONDS });
    return new FconQueryApi(new HttpClient({ baseUrl: `${sim.url}/fcon-query`, tokens: staticTokens(token) }));
  }

  /** The simulator's own telemetry body, to compare the mapped status with. */
  async function telemetryOf(vehicleId: string): Promise<TelemetryBody['metrics']> {
    const v = sim.world.fleet.get(vehicleId)!;
    const { token } = mintQueryToken(sim, v.id, ALL_CATEGORIES, { ownerId: v.ownerIds[0] });
    return (await queryGet<TelemetryBody>(sim.url, '/telemetry', token)).json.metrics;
  }

  it('maps every door, window and wheel of every seed vehicle, with its engine type from the garage', async () => {
    const seen: (string | undefined)[] = [];
    for (const v of sim.world.fleet.list()) {
      const client = queryApi(v.id);
      const [vehicle] = await client.listVehicles();
      const { status } = await client.getStatus(vehicle.vehicleId);
      const metrics = await telemetryOf(v.id);
      const label = v.nickName;
      seen.push(status.engineType);
      // The garage says BEV where FordConnect v1 says EV (the E-Transit).
      expect(status.engineType, label).to.equal(v.engineType === 'EV' ? 'BEV' : v.engineType);
      expect(status.name, label).to.equal(v.nickName);
      // Nothing Ford reports is lost: one key per door (and the hood), window and wheel.
      const tyres = [...(metrics.tirePressure ?? []), ...(metrics.tirePressureStatus ?? [])];
      expect(Object.keys(status.doors ?? {}), label).to.have.length((metrics.doorStatus ?? []).length + (metrics.hoodStatus ? 1 : 0));
      expect(Object.keys(status.windows ?? {}), label).to.have.length((metrics.windowStatus ?? []).length);
      expect(Object.keys(status.tyres?.pressuresKpa ?? {}), label).to.have.length((metrics.tirePressure ?? []).length);
      expect(Object.keys(status.tyres?.states ?? {}), label).to.have.length((metrics.tirePressureStatus ?? []).length);
      // Tyres and the 12 V battery report on their own schedule: their age is their own, days behind the rest.
      const newestOf = (list: ({ updateTime: string } | undefined)[]): string => new Date(list.map((x) => x?.updateTime ?? '').sort().at(-1)!).toISOString();
      expect(status.tyres?.updated, label).to.equal(newestOf(tyres));
      expect(status.battery12V?.updated, label).to.equal(newestOf([metrics.batteryStateOfCharge, metrics.batteryVoltage]));
      expect(Date.parse(status.lastUpdated!) - Date.parse(status.tyres!.updated!), label).to.be.at.least(24 * 3600_000);
      expect(status.engine?.updated, label).to.equal(status.lastUpdated);
      expect(status.battery12V?.level, label).to.be.within(0, 100);
      expect(status.fuel !== undefined, label).to.equal('fuelLevel' in metrics);
      expect(status.battery !== undefined, label).to.equal('xevBatteryStateOfCharge' in metrics);
      expect(status.charging !== undefined, label).to.equal('xevBatteryChargeDisplayStatus' in metrics);
    }
    expect(seen).to.include.members(['ICE', 'BEV', 'PHEV']);
  });

  it('reads the rear doors and windows of the F-150 by side', async () => {
    const truck = sim.world.fleet.list().find((v) => v.modelName === 'F-150')!;
    sim.world.fleet.patch(truck.id, { doorsOpen: ['REAR_LEFT'] });
    sim.world.clock.advance(60_000);
    const client = queryApi(truck.id);
    const { status } = await client.getStatus(vehicleIdFromVin(truck.vin));
    expect(status.doors).to.include({ driver: 'closed', passenger: 'closed', rearLeft: 'open', rearRight: 'closed' });
    expect(status.windows).to.deep.equal({ driver: 'closed', passenger: 'closed', rearLeft: 'closed', rearRight: 'closed' });
    sim.world.fleet.patch(truck.id, { doorsOpen: [] });
  });

  it('asks the garage once per adapter, however often it polls', async () => {
    const machE = sim.world.fleet.list().find((v) => v.engineType === 'BEV' || v.engineType === 'EV')!;
    const client = queryApi(machE.id);
    const id = vehicleIdFromVin(machE.vin);
    const garage = sim.world.counts.get(FCON_QUERY_COUNTS.garage);
    const telemetry = sim.world.counts.get(FCON_QUERY_COUNTS.telemetry);
    for (let i = 0; i < 3; i++) expect((await client.getStatus(id)).status.engineType).to.equal('BEV');
    await client.getLocation(id);
    expect(sim.world.counts.get(FCON_QUERY_COUNTS.garage) - garage).to.equal(1);
    expect(sim.world.counts.get(FCON_QUERY_COUNTS.telemetry) - telemetry).to.equal(4);
  });

  it('gives the heading without float noise', async () => {
    for (const v of sim.world.fleet.list()) {
      const { location } = await queryApi(v.id).getLocation(vehicleIdFromVin(v.vin));
      const metrics = await telemetryOf(v.id);
      expect(location.heading, v.nickName).to.equal(metrics.heading?.value.heading);
      expect(String(location.heading)).to.match(/^\d+(\.\d)?$/);
    }
  });
});
