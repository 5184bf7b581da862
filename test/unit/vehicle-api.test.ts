import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { ApiError } from '../../src/lib/api/errors';
import { FconQueryApi, vehicleIdFromVin } from '../../src/lib/api/fcon-query';
import { FordConnectV1Api } from '../../src/lib/api/fordconnect-v1';
import { HttpClient, type TokenSource } from '../../src/lib/api/http-client';
import { FORD_APPLICATION_ID } from '../../src/lib/api/presets';
import { assertVehicleId, isVehicleId, type VehicleApi } from '../../src/lib/api/vehicle-api';
import type { RunningSimulator } from '../../src/sim';
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

  before(async () => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      // A little latency, so concurrent callers overlap.
      setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body)), 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    requests = [];
    body = {
      updateTime: '2026-11-25T08:12:00Z',
      vin: VIN,
      metrics: {
        xevBatteryStateOfCharge: { updateTime: '2026-11-25T08:11:00Z', value: 64 },
        position: { updateTime: '2026-11-25T08:11:00Z', value: { location: { lat: 51.5, lon: -0.12 } } },
      },
    };
  });

  const api = (): FconQueryApi => new FconQueryApi(new HttpClient({ baseUrl: base, tokens: staticTokens('t') }));

  it('reads status and location from one telemetry request when asked together', async () => {
    const client = api();
    const [{ status, raw }, { location }] = await Promise.all([client.getStatus(ID), client.getLocation(ID)]);
    expect(requests).to.deep.equal(['GET /v1/telemetry']);
    expect(status).to.deep.equal({ vehicleId: ID, lock: 'unknown', battery: { level: 64, updated: '2026-11-25T08:11:00.000Z' }, lastUpdated: '2026-11-25T08:12:00.000Z' });
    expect(JSON.stringify(raw)).to.not.include(VIN);
    expect(JSON.stringify(raw)).to.not.include('51.5');
    expect(location).to.deep.equal({ latitude: 51.5, longitude: -0.12, time: '2026-11-25T08:11:00.000Z' });
    // Later reads ask again.
    await client.getStatus(ID);
    expect(requests).to.have.length(2);
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
