import { expect } from 'chai';
import type { RunningSimulator } from '../../src/sim';
import { defaultFaults } from '../../src/sim/control/faults';
import type { Vehicle } from '../../src/sim/vehicles/vehicle';
import { mintToken, withSimulator } from '../helpers/sim';
import { ALL_CATEGORIES, mintQueryToken, queryGet } from '../helpers/fcon-query';
import { assertGarage, assertMetrics, assertQueryError, assertTelemetry } from '../helpers/fcon-query-shapes';

const DAY_MS = 24 * 3600 * 1000;
const YEAR_SECONDS = 365 * 24 * 3600;
/** A fixed simulated start, so two simulators with one seed agree to the millisecond. */
const START = Date.UTC(2026, 2, 2, 9, 30, 0);
const APP_ID = 'afdc085b-377a-4351-b23e-5e1d35fb3700';

/** ford-api.md's table, by what the vehicle must have for them. */
const STATUS_METRICS = [
  'doorLockStatus', 'doorStatus', 'hoodStatus', 'windowStatus', 'tirePressure', 'tirePressureStatus', 'odometer', 'ignitionStatus',
  'remoteStartCountdownTimer', 'remoteStartDeviceStatus', 'alarmStatus', 'panicAlarmStatus', 'batteryStateOfCharge', 'batteryVoltage',
];
const FUEL_METRICS = ['fuelLevel', 'fuelRange'];
const XEV_METRICS = ['xevBatteryStateOfCharge', 'xevBatteryRange', 'xevPlugChargerStatus', 'xevBatteryChargeDisplayStatus', 'xevBatteryTimeToFullCharge', 'xevChargeStationPowerType'];
const LOCATION_METRICS = ['position', 'heading', 'speed', 'compassDirection'];
const STALE_METRICS = ['tirePressure', 'tirePressureStatus', 'batteryStateOfCharge', 'batteryVoltage'];

interface Metric {
  updateTime: string;
  value: unknown;
  [qualifier: string]: unknown;
}
interface Telemetry {
  updateTime: string;
  vehicleId: string;
  vin: string;
  metrics: Record<string, Metric & Metric[]>;
}

describe('sim: FordConnect Query API (/fcon-query/v1)', () => {
  let sim: RunningSimulator;
  let f150: Vehicle;
  let machE: Vehicle;
  let escape: Vehicle;
  let eTransit: Vehicle;

  before(async () => {
    sim = await withSimulator({ startTime: START });
    const byType = (owner: string, type: string): Vehicle => sim.world.fleet.ownedBy(owner).find((v) => v.engineType === type) as Vehicle;
    f150 = byType('owner-1', 'ICE');
    machE = byType('owner-1', 'BEV');
    escape = byType('owner-1', 'PHEV');
    eTransit = byType('owner-fleet', 'EV');
  });
  after(() => sim.close());
  afterEach(async () => {
    Object.assign(sim.world.faults, defaultFaults());
    sim.world.rateLimiter.reset();
  });

  const token = (v: Vehicle, categories: string[] = ALL_CATEGORIES, ownerId = v.ownerIds[0]): string => mintQueryToken(sim, v.id, categories, { ownerId, lifetimeSeconds: YEAR_SECONDS }).token;
  const telemetry = async (t: string): Promise<Telemetry> => {
    const res = await queryGet<Telemetry>(sim.url, '/telemetry', t);
    expect(res.status, res.text).to.equal(200);
    return res.json;
  };
  const simCall = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(`${sim.url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  describe('garage', () => {
    it('is the one consented vehicle as a single object, in GarageResponseDTO\'s shape', async () => {
      for (const v of [f150, machE, escape]) {
        const res = await queryGet(sim.url, '/garage', token(v));
        expect(res.status).to.equal(200);
        expect(res.json).to.not.be.an('array');
        assertGarage(res.json);
        expect(res.json).to.include({ vin: v.vin, nickName: v.nickName, modelName: v.modelName, modelYear: v.modelYear, make: 'Ford', engineType: v.engineType, vehicleType: `${v.modelYear} ${v.modelName}` });
        expect(res.json).to.include({ tcuEnabled: 1, vehicleAuthorizationIndicator: 1 });
      }
    });

    it('calls the E-Transit a BEV, as Ford\'s garage does (FordConnect v1 says EV)', async () => {
      const res = await queryGet(sim.url, '/garage', token(eTransit, ALL_CATEGORIES, 'owner-fleet'));
      expect(res.json.engineType).to.equal('BEV');
    });

    it('needs no particular category: identity is not a data category', async () => {
      const res = await queryGet(sim.url, '/garage', token(machE, ['health']));
      expect(res.status).to.equal(200);
    });
  });

  describe('telemetry', () => {
    it('has every metric of the table in Ford\'s metric shapes, for a plug-in hybrid with every category', async () => {
      const body = await telemetry(token(escape));
      assertTelemetry(body as unknown as Record<string, unknown>);
      expect(Object.keys(body.metrics)).to.have.members([...STATUS_METRICS, ...FUEL_METRICS, ...XEV_METRICS, ...LOCATION_METRICS]);
      expect(body.vin).to.equal(escape.vin);
      expect(body.updateTime).to.equal(new Date(escape.reported().at).toISOString());
    });

    it('leaves out what the vehicle has not: no fuel on a BEV, no xev metrics on an ICE', async () => {
      const bev = await telemetry(token(machE));
      expect(Object.keys(bev.metrics)).to.have.members([...STATUS_METRICS, ...XEV_METRICS, ...LOCATION_METRICS]);
      const ice = await telemetry(token(f150));
      expect(Object.keys(ice.metrics)).to.have.members([...STATUS_METRICS, ...FUEL_METRICS, ...LOCATION_METRICS]);
      assertMetrics(ice.metrics);
    });

    it('shows only what the categories open: no position, heading or speed without location; no xev without evData', async () => {
      const statusOnly = await telemetry(token(escape, ['status']));
      expect(Object.keys(statusOnly.metrics)).to.have.members([...STATUS_METRICS, ...FUEL_METRICS]);
      const noLocation = await telemetry(token(machE, ['status', 'evData', 'health']));
      for (const name of LOCATION_METRICS) expect(noLocation.metrics, name).to.not.have.property(name);
      const locationOnly = await telemetry(token(machE, ['location']));
      expect(Object.keys(locationOnly.metrics)).to.have.members(LOCATION_METRICS);
      const evOnly = await telemetry(token(machE, ['evData']));
      expect(Object.keys(evOnly.metrics)).to.have.members(XEV_METRICS);
    });

    it('gives each vehicle a stable UUID that is not its FordConnect v1 id', async () => {
      const a = await telemetry(token(machE));
      const b = await telemetry(token(machE, ['status']));
      const c = await telemetry(token(f150));
      expect(a.vehicleId).to.equal(b.vehicleId);
      expect(a.vehicleId).to.not.equal(c.vehicleId);
      expect(a.vehicleId.replace(/-/g, '')).to.not.equal(machE.id);
    });

    it('reads the vehicle\'s current state, in SI units, with the values FordConnect v1 shows', async () => {
      sim.world.fleet.patch(escape.id, { locked: false, doorsOpen: ['REAR_LEFT', 'HOOD_DOOR'], ignition: 'ON', odometerKm: 32000.46, fuelPercent: 40 });
      const view = escape.view();
      const m = (await telemetry(token(escape))).metrics;
      expect(m.doorLockStatus.find((d) => d.vehicleDoor === 'ALL_DOORS')?.value).to.equal('UNLOCKED');
      expect(m.doorStatus.find((d) => d.vehicleDoor === 'REAR_LEFT')?.value).to.equal('AJAR');
      expect(m.doorStatus.find((d) => d.vehicleDoor === 'UNSPECIFIED_FRONT' && d.vehicleOccupantRole === 'DRIVER')?.value).to.equal('CLOSED');
      expect(m.hoodStatus.value).to.equal('AJAR');
      expect(m.ignitionStatus.value).to.equal('ON');
      expect(m.odometer.value).to.equal(32000.5);
      expect(m.fuelLevel.value).to.equal(40);
      expect(m.fuelRange.value).to.be.closeTo(view.fuelRangeKm as number, 0.05);
      expect(m.xevBatteryStateOfCharge.value).to.equal(35);
      // kPa, with the placard beside it; the rear left tyre of the seeded Escape is low.
      expect(m.tirePressure.map((t) => [t.vehicleWheel, t.value])).to.deep.equal([['FRONT_LEFT', 240], ['FRONT_RIGHT', 241], ['REAR_LEFT', 196], ['REAR_RIGHT', 239]]);
      expect(m.tirePressure[0].wheelPlacardFront).to.equal(241);
      expect(m.tirePressureStatus.map((t) => t.value)).to.deep.equal(['NORMAL', 'NORMAL', 'LOW', 'NORMAL']);
      expect(m.batteryVoltage.value).to.equal(view.battery12VVoltage);
      sim.world.fleet.patch(escape.id, { locked: true, doorsOpen: [], ignition: 'OFF' });
    });

    it('reports charging as the newer API spells it', async () => {
      sim.world.fleet.patch(machE.id, { plugged: true, charging: true, chargerType: 'DC', chargerKw: 150 });
      const m = (await telemetry(token(machE))).metrics;
      expect(m.xevPlugChargerStatus.value).to.equal('CONNECTED');
      expect(m.xevBatteryChargeDisplayStatus).to.include({ value: 'IN_PROGRESS', xevChargerPowerType: 'DC' });
      expect(m.xevChargeStationPowerType.value).to.equal('DC_FAST');
      expect(m.xevBatteryTimeToFullCharge.value).to.be.above(0);
      // Stopped while plugged in: paused (FordConnect v1's EvsePaused).
      sim.world.fleet.patch(machE.id, { charging: false, chargerType: 'AC', chargerKw: 10.5 });
      const after = (await telemetry(token(machE))).metrics;
      expect(after.xevBatteryChargeDisplayStatus).to.include({ value: 'PAUSED', xevChargerPowerType: 'AC' });
      expect(after.xevBatteryTimeToFullCharge.value).to.equal(0);
      sim.world.fleet.patch(machE.id, { plugged: false });
      const unplugged = (await telemetry(token(machE))).metrics;
      expect(unplugged.xevPlugChargerStatus.value).to.equal('DISCONNECTED');
      expect(unplugged.xevBatteryChargeDisplayStatus.value).to.equal('NOT_PLUGGED_IN');
      expect(unplugged.xevBatteryChargeDisplayStatus).to.not.have.property('xevChargerPowerType');
      sim.world.fleet.patch(machE.id, { plugged: true, charging: false });
    });

    it('gives the same point as FordConnect v1 (six decimals), with an altitude', async () => {
      sim.world.fleet.patch(f150.id, { position: { lat: 42.314159265, lon: -83.271828182 } });
      const v1Token = mintToken(sim, 'owner-1', ['read:status', 'read:location'], { vehicleIds: [f150.id], lifetimeSeconds: YEAR_SECONDS }).token;
      const v1 = await fetch(`${sim.url}/api/fordconnect/v1/vehicles/${f150.id}/location`, { headers: { authorization: `Bearer ${v1Token}`, 'application-id': APP_ID } });
      const where = ((await v1.json()) as { vehicleLocation: { latitude: string; longitude: string; speed: number } }).vehicleLocation;
      const m = (await telemetry(token(f150))).metrics;
      const location = (m.position.value as { location: { lat: number; lon: number; alt: number } }).location;
      expect(where.latitude).to.equal('42.314159');
      expect(location.lat).to.equal(Number(where.latitude));
      expect(location.lon).to.equal(Number(where.longitude));
      expect(location.alt).to.be.within(170, 250);
      expect(m.speed.value).to.equal(0);
      expect(m.position.gpsModuleTimestamp).to.equal(m.position.updateTime);
    });

    it('has a heading, a compass direction and a speed while driving', async () => {
      sim.world.fleet.patch(f150.id, { driving: true, speedKph: 48 });
      sim.world.clock.advance(90_000);
      const m = (await telemetry(token(f150))).metrics;
      expect(m.speed.value).to.equal(48);
      expect((m.heading.value as { heading: number }).heading).to.be.within(0, 360);
      expect(m.compassDirection.value).to.match(/^(NORTH|NORTHEAST|EAST|SOUTHEAST|SOUTH|SOUTHWEST|WEST|NORTHWEST)$/);
      expect(m.ignitionStatus.value).to.equal('ON');
      sim.world.fleet.patch(f150.id, { driving: false, speedKph: null });
    });

    it('shows a remote start as a countdown in seconds', async () => {
      sim.world.fleet.patch(f150.id, { remoteStartMinutesLeft: 7 });
      const m = (await telemetry(token(f150))).metrics;
      expect(m.remoteStartDeviceStatus.value).to.equal('RUNNING');
      expect(m.remoteStartCountdownTimer.value).to.equal(7 * 60);
      sim.world.fleet.patch(f150.id, { remoteStartMinutesLeft: 0 });
      expect((await telemetry(token(f150))).metrics.remoteStartDeviceStatus.value).to.equal('SHUTDOWN');
    });
  });

  describe('stale metrics', () => {
    it('tyre pressure and the 12 V battery are days old, each with its own time; the rest is as fresh as the report', async () => {
      const body = await telemetry(token(escape));
      const report = Date.parse(body.updateTime);
      const times = new Set<string>();
      for (const name of STALE_METRICS) {
        const items = Array.isArray(body.metrics[name]) ? body.metrics[name] : [body.metrics[name]];
        for (const item of items) {
          const age = report - Date.parse(item.updateTime);
          expect(age, name).to.be.at.least(DAY_MS).and.at.most(8 * DAY_MS);
        }
        times.add(items[0].updateTime);
      }
      expect(times.size, 'each slow metric reports on its own schedule').to.equal(STALE_METRICS.length);
      for (const name of ['odometer', 'doorLockStatus', 'xevBatteryStateOfCharge', 'position']) {
        const m = body.metrics[name];
        expect((Array.isArray(m) ? m[0] : m).updateTime, name).to.equal(body.updateTime);
      }
    });

    it('are the same on every read and in every simulator with the same seed and start, and differ with another seed', async () => {
      const pick = (b: Telemetry): string[] => STALE_METRICS.map((n) => (Array.isArray(b.metrics[n]) ? b.metrics[n][0] : b.metrics[n]).updateTime);
      const t = token(eTransit, ALL_CATEGORIES, 'owner-fleet');
      const here = pick(await telemetry(t));
      sim.world.clock.advance(60_000);
      expect(pick(await telemetry(t)), 'a parked vehicle: nothing reported since').to.deep.equal(here);
      const stale = async (seed: number): Promise<string[]> => {
        const other = await withSimulator({ startTime: START, seed });
        try {
          const v = other.world.fleet.ownedBy('owner-1').find((x) => x.engineType === 'BEV') as Vehicle;
          return pick((await queryGet<Telemetry>(other.url, '/telemetry', mintQueryToken(other, v.id).token)).json);
        } finally {
          await other.close();
        }
      };
      const a = await stale(42);
      expect(await stale(42)).to.deep.equal(a);
      expect(await stale(43)).to.not.deep.equal(a);
    });
  });

  describe('EV schedules', () => {
    it('charge schedules come from the same data as FordConnect v1\'s chargeSchedules', async () => {
      const res = await queryGet<{ chargeSchedules: { vin: string; location: Record<string, unknown>; chargeProfile: { chargeMode: string; targetSoc: number; schedules: { days: string; windows: { startTime: string; endTime: string }[] }[] } }[] }>(
        sim.url,
        '/electric/charge-schedules',
        token(machE, ['evData']),
      );
      expect(res.status).to.equal(200);
      const [entry] = res.json.chargeSchedules;
      expect(entry.vin).to.equal(machE.vin);
      expect(entry.chargeProfile.targetSoc).to.equal(machE.state.chargeTargetPercent);
      expect(entry.chargeProfile.chargeMode).to.equal('VALUE_CHARGE');
      expect(entry.chargeProfile.schedules).to.deep.equal((machE.spec.chargeSchedules ?? []).map((s) => ({ days: s.days, windows: s.chargeWindows })));
      // A home address is location data: no coordinates without that category.
      expect(entry.location).to.not.have.any.keys('latitude', 'longitude');
      const located = await queryGet<{ chargeSchedules: { location: Record<string, unknown> }[] }>(sim.url, '/electric/charge-schedules', token(machE, ['evData', 'location']));
      expect(located.json.chargeSchedules[0].location).to.include.keys('latitude', 'longitude');
    });

    it('departure times are every departure of the vehicle, by ISO weekday', async () => {
      const res = await queryGet<{ departureTimes: { vin: string; isDepartureTimesEnabled: boolean; goTimesScheduleCloudData: { calendarDaysList: { calendarDay: number; scheduleFromCloudList: { hr: number; min: number; preConditioningTemp: string }[] }[] } } }>(
        sim.url,
        '/electric/departure-times',
        token(machE, ['evData']),
      );
      expect(res.status).to.equal(200);
      const d = res.json.departureTimes;
      expect(d.vin).to.equal(machE.vin);
      expect(d.isDepartureTimesEnabled).to.equal(true);
      // Mach-E: Monday and Wednesday 07:45 warm, Friday 17:30 medium.
      expect(d.goTimesScheduleCloudData.calendarDaysList.map((c) => [c.calendarDay, c.scheduleFromCloudList.map((s) => [s.hr, s.min, s.preConditioningTemp])])).to.deep.equal([
        [1, [[7, 45, 'High']]],
        [3, [[7, 45, 'High']]],
        [5, [[17, 30, 'Medium']]],
      ]);
    });

    it('403 "Required scopes missing: evData" without the EV category, 404 on a vehicle that does not charge', async () => {
      for (const path of ['/electric/charge-schedules', '/electric/departure-times']) {
        const refused = await queryGet(sim.url, path, token(machE, ['status', 'location', 'health']));
        expect(refused.status).to.equal(403);
        expect(refused.json).to.deep.equal({ errorCode: 403, errorMessage: 'Required scopes missing: evData' });
        const ice = await queryGet(sim.url, path, token(f150, ['evData']));
        expect(ice.status).to.equal(404);
        assertQueryError(ice.json, 404);
      }
    });
  });

  describe('health alerts', () => {
    it('lists the vehicle\'s active alerts (the seeded Escape has a low tyre); none is 4040 "No Data"', async () => {
      const res = await queryGet<{ status: number; VehicleAlertList: { Vin: string; StatusCode: number; StatusDesc: string; ActiveAlerts: { Headline: string; Body: Record<string, string>; Metadata: Record<string, unknown> }[] }[] }>(
        sim.url,
        '/vehicle-health/alerts',
        token(escape, ['health']),
      );
      expect(res.status).to.equal(200);
      expect(res.json.status).to.equal(2000);
      const [entry] = res.json.VehicleAlertList;
      expect(entry.Vin).to.equal(escape.vin);
      expect(entry.StatusCode).to.equal(2000);
      expect(entry.ActiveAlerts.map((a) => a.Headline)).to.deep.equal(['Tire Pressure Low']);
      expect(entry.ActiveAlerts[0].Body.whatIsHappening).to.include('rear left').and.include('196 kPa');
      expect(entry.ActiveAlerts[0].Metadata).to.include.keys('categoryName', 'severity', 'displaySequence');

      const quiet = await queryGet<{ VehicleAlertList: { StatusCode: number; StatusDesc: string; ActiveAlerts: unknown[] }[] }>(sim.url, '/vehicle-health/alerts', token(machE, ['health']));
      expect(quiet.json.VehicleAlertList[0]).to.include({ StatusCode: 4040, StatusDesc: 'No Data' });
      expect(quiet.json.VehicleAlertList[0].ActiveAlerts).to.deep.equal([]);
    });

    it('needs the health category', async () => {
      const res = await queryGet(sim.url, '/vehicle-health/alerts', token(escape, ['status']));
      expect(res.status).to.equal(403);
      expect(res.json).to.deep.equal({ errorCode: 403, errorMessage: 'Required scopes missing: health' });
    });
  });

  describe('the shared pipeline', () => {
    it('refuses a missing, expired or revoked bearer with Ford\'s 401 body and the RFC 6750 challenge', async () => {
      const none = await queryGet(sim.url, '/telemetry');
      expect(none.status).to.equal(401);
      assertQueryError(none.json, 401);
      expect(none.headers.get('www-authenticate')).to.match(/^Bearer error="invalid_token"/);

      const { token: t } = mintQueryToken(sim, machE.id, ALL_CATEGORIES, { lifetimeSeconds: 60 });
      expect((await simCall('POST', '/sim/tokens/expire')).status).to.equal(200);
      const expired = await queryGet(sim.url, '/garage', t);
      expect(expired.status).to.equal(401);
      assertQueryError(expired.json, 401, /expired/);

      const live = token(machE);
      await simCall('POST', `/sim/grants/${sim.world.store.accessTokens.get(live)?.grantId}/revoke`);
      const revoked = await queryGet(sim.url, '/garage', live);
      expect(revoked.status).to.equal(401);
      assertQueryError(revoked.json, 401, /revoked/);
    });

    it('applies the owner\'s IP allow-list', async () => {
      const t = token(machE);
      const grant = sim.world.store.grants.get(sim.world.store.accessTokens.get(t)?.grantId as string);
      if (!grant) throw new Error('no grant');
      grant.ipAllowList = ['10.1.2.3'];
      const res = await queryGet(sim.url, '/telemetry', t);
      expect(res.status).to.equal(403);
      assertQueryError(res.json, 403, /allow-list/);
      expect(sim.world.audit.all().at(-1)).to.include({ action: 'status.read', outcome: 'denied', httpStatus: 403, vehicleId: machE.id });
    });

    it('rate-limits per vehicle with Retry-After, on the simulated clock', async () => {
      expect((await simCall('PUT', '/sim/rate-limits', { perVehiclePerMinute: 2 })).status).to.equal(200);
      try {
        const t = token(escape);
        expect((await queryGet(sim.url, '/garage', t)).status).to.equal(200);
        expect((await queryGet(sim.url, '/telemetry', t)).status).to.equal(200);
        const third = await queryGet(sim.url, '/telemetry', t);
        expect(third.status).to.equal(429);
        assertQueryError(third.json, 429);
        expect(Number(third.headers.get('retry-after'))).to.be.above(0);
        sim.world.clock.advance(60_000);
        expect((await queryGet(sim.url, '/telemetry', t)).status).to.equal(200);
      } finally {
        await simCall('DELETE', '/sim/rate-limits');
      }
    });

    it('injects 503 and 429-with-Retry-After like on FordConnect v1', async () => {
      const t = token(machE);
      await simCall('PUT', '/sim/faults', { errorRate: 1 });
      const down = await queryGet(sim.url, '/telemetry', t);
      expect(down.status).to.equal(503);
      assertQueryError(down.json, 503);
      await simCall('PUT', '/sim/faults', { errorRate: 0, rateLimitRate: 1, retryAfterSeconds: 17 });
      const slow = await queryGet(sim.url, '/telemetry', t);
      expect(slow.status).to.equal(429);
      expect(slow.headers.get('retry-after')).to.equal('17');
    });

    it('injects Ford\'s HTML 401 (no JSON, no challenge) and a 429 without Retry-After, set through /sim/faults', async () => {
      const t = token(machE);
      const put = await simCall('PUT', '/sim/faults', { html401Rate: 1 });
      expect(put.status).to.equal(200);
      expect(put.json).to.include({ html401Rate: 1, rateLimitNoRetryAfterRate: 0 });
      const html = await queryGet(sim.url, '/telemetry', t);
      expect(html.status).to.equal(401);
      expect(html.headers.get('content-type')).to.match(/text\/html/);
      expect(html.text).to.match(/^<!DOCTYPE html>/);
      expect(html.headers.get('www-authenticate')).to.equal(null);
      expect(sim.world.audit.all().at(-1)).to.include({ action: 'status.read', outcome: 'failed', httpStatus: 401 });

      await simCall('PUT', '/sim/faults', { html401Rate: 0, rateLimitNoRetryAfterRate: 1 });
      const bare = await queryGet(sim.url, '/garage', t);
      expect(bare.status).to.equal(429);
      expect(bare.headers.get('retry-after')).to.equal(null);
      expect(bare.json).to.deep.equal({ errorCode: 429, errorMessage: 'Too Many Requests' });
      expect(sim.world.audit.all().at(-1)).to.include({ action: 'status.read', outcome: 'rate-limited', httpStatus: 429 });

      // These two are this API's: FordConnect v1 goes on answering.
      const v1Token = mintToken(sim, 'owner-1', ['read:status'], { vehicleIds: [machE.id], lifetimeSeconds: YEAR_SECONDS }).token;
      await simCall('PUT', '/sim/faults', { html401Rate: 1, rateLimitNoRetryAfterRate: 1 });
      const v1 = await fetch(`${sim.url}/api/fordconnect/v3/vehicles/${machE.id}`, { headers: { authorization: `Bearer ${v1Token}`, 'application-id': APP_ID } });
      expect(v1.status).to.equal(200);

      const reset = await simCall('DELETE', '/sim/faults');
      expect(reset.json).to.include({ html401Rate: 0, rateLimitNoRetryAfterRate: 0 });
    });

    it('validates the new fault settings', async () => {
      for (const bad of [{ html401Rate: 2 }, { html401Rate: -0.1 }, { rateLimitNoRetryAfterRate: '1' }, { rateLimitNoRetryAfterRate: 1.5 }]) {
        const res = await simCall('PUT', '/sim/faults', bad);
        expect(res.status, JSON.stringify(bad)).to.equal(400);
        expect(res.json.error).to.be.a('string');
      }
      expect(sim.world.faults).to.deep.equal(defaultFaults());
    });

    it('answers late with injected latency, and from the last report while the vehicle is offline', async () => {
      const t = token(f150);
      await simCall('PUT', '/sim/faults', { latencyMs: 5, offlineVehicles: [f150.id] });
      const before = await telemetry(t);
      sim.world.fleet.patch(f150.id, { locked: false });
      sim.world.clock.advance(3_600_000);
      const after = await telemetry(t);
      expect(after.updateTime).to.equal(before.updateTime);
      expect(after.metrics.doorLockStatus.find((d) => d.vehicleDoor === 'ALL_DOORS')?.value).to.equal('LOCKED');
      await simCall('PUT', '/sim/faults', { offlineVehicles: [] });
      sim.world.clock.advance(1000);
      const online = await telemetry(t);
      expect(online.metrics.doorLockStatus.find((d) => d.vehicleDoor === 'ALL_DOORS')?.value).to.equal('UNLOCKED');
      sim.world.fleet.patch(f150.id, { locked: true });
    });
  });

  describe('wire details', () => {
    it('no path carries a VIN or vehicle id; unknown paths and wrong methods are Ford\'s 404 and 405', async () => {
      const t = token(machE);
      for (const path of [`/telemetry/${machE.vin}`, `/garage/${machE.id}`, '/vehicles']) {
        const res = await queryGet(sim.url, path, t);
        expect(res.status, path).to.equal(404);
        assertQueryError(res.json, 404, 'Not Found');
      }
      const post = await queryGet(sim.url, '/telemetry', t, 'POST');
      expect(post.status).to.equal(405);
      expect(post.headers.get('allow')).to.equal('GET, HEAD');
      assertQueryError(post.json, 405);
    });

    it('counts every request under fcon.* keys (never FordConnect v1\'s api.*)', async () => {
      sim.world.counts.reset();
      const t = token(machE);
      await queryGet(sim.url, '/garage', t);
      await queryGet(sim.url, '/telemetry', t);
      await queryGet(sim.url, '/telemetry', t);
      await queryGet(sim.url, '/electric/charge-schedules', t);
      await queryGet(sim.url, '/electric/departure-times', t);
      await queryGet(sim.url, '/vehicle-health/alerts', t);
      await queryGet(sim.url, '/nope', t);
      await queryGet(sim.url, '/garage', t, 'DELETE');
      const counts = (await simCall('GET', '/sim/requests')).json;
      expect(counts).to.deep.equal({
        'fcon.total': 8,
        'fcon.garage': 1,
        'fcon.telemetry': 2,
        'fcon.charge-schedules': 1,
        'fcon.departure-times': 1,
        'fcon.alerts': 1,
        'fcon.not-found': 1,
        'fcon.method-not-allowed': 1,
      });
    });

    it('audits every access in the owner\'s log: status.read, and location.read when the position went out', async () => {
      const t = token(escape, ['status', 'evData']);
      const located = token(escape, ALL_CATEGORIES);
      const from = sim.world.audit.all().length;
      await queryGet(sim.url, '/garage', t);
      await queryGet(sim.url, '/telemetry', t);
      await queryGet(sim.url, '/telemetry', located);
      await queryGet(sim.url, '/vehicle-health/alerts', t);
      const entries = sim.world.audit.all().slice(from);
      expect(entries.map((e) => [e.action, e.outcome, e.httpStatus])).to.deep.equal([
        ['status.read', 'ok', 200],
        ['status.read', 'ok', 200],
        ['status.read', 'ok', 200],
        ['location.read', 'ok', 200],
        ['status.read', 'denied', 403],
      ]);
      for (const e of entries) expect(e).to.include({ ownerId: 'owner-1', clientId: 'demo-client', vehicleId: escape.id });
      expect(entries[1].detail).to.match(/^telemetry: \d+ metrics \(no location/);
      expect(entries[2].detail).to.include('position included');
      expect(entries[4].detail).to.include('health');

      // The owner reads the same on the audit page.
      const cookie = (
        await fetch(`${sim.url}/owner/login`, { method: 'POST', body: new URLSearchParams({ email: 'owner@example.com', password: 'demo', next: '/owner/audit' }), redirect: 'manual' })
      ).headers
        .getSetCookie()[0]
        .split(';')[0];
      const page = await (await fetch(`${sim.url}/owner/audit`, { headers: { cookie } })).text();
      expect(page).to.include('telemetry: ').and.include('location.read');
    });
  });
});
