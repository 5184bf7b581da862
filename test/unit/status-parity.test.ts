import { expect } from 'chai';
import { FconQueryApi, vehicleIdFromVin } from '../../src/lib/api/fcon-query';
import { FordConnectV1Api } from '../../src/lib/api/fordconnect-v1';
import { HttpClient, type TokenSource } from '../../src/lib/api/http-client';
import { FORD_APPLICATION_ID } from '../../src/lib/api/presets';
import type { VehicleStatus } from '../../src/lib/api/status';
import type { RunningSimulator } from '../../src/sim';
import { ALL_CATEGORIES, mintQueryToken } from '../helpers/fcon-query';
import { mintToken, withSimulator } from '../helpers/sim';

const YEAR = 365 * 24 * 3600;

function staticTokens(token: string): TokenSource {
  return { getAccessToken: async () => token, tokenAfterRejection: async () => token };
}

/** `{ a: { b: 1 } }` → `{ 'a.b': 1 }`. */
function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = value;
  return out;
}

/**
 * Fields whose meaning differs by API, not by mistake: identity (Query's id
 * stands in for the VIN), and the times each API stamps its own way.
 */
const NOT_COMPARABLE = [/^vehicleId$/, /(^|\.)updated$/, /^lastUpdated$/, /^charging\.(startTime|endTime|fordStatus)$/];

/**
 * One simulated vehicle read through both of Ford's APIs must give the same
 * documented status object on every field both APIs carry.
 */
describe('lib/api: one vehicle, the same status through FordConnect v1 and FordConnect Query (against the simulator)', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await withSimulator();
  });
  after(() => sim.close());

  for (const [label, owner, type] of [
    ['the ICE truck', 'owner-1', 'ICE'],
    ['the BEV', 'owner-1', 'BEV'],
    ['the PHEV', 'owner-1', 'PHEV'],
    ['the E-Transit ("EV")', 'owner-fleet', 'EV'],
  ] as const) {
    it(`matches field by field for ${label}`, async () => {
      const vehicle = sim.world.fleet.ownedBy(owner).find((v) => v.spec.engineType === type);
      if (!vehicle) throw new Error(`no ${type} vehicle in the seed fleet`);
      const v1Token = mintToken(sim, owner, ['read:status', 'read:location'], { lifetimeSeconds: YEAR }).token;
      const queryToken = mintQueryToken(sim, vehicle.id, ALL_CATEGORIES, { ownerId: owner, lifetimeSeconds: YEAR }).token;
      const v1 = new FordConnectV1Api(new HttpClient({ baseUrl: `${sim.url}/api/fordconnect`, tokens: staticTokens(v1Token), headers: { 'Application-Id': FORD_APPLICATION_ID } }));
      const query = new FconQueryApi(new HttpClient({ baseUrl: `${sim.url}/fcon-query`, tokens: staticTokens(queryToken) }));

      const a = flatten((await v1.getStatus(vehicle.id)).status as VehicleStatus);
      const b = flatten((await query.getStatus(vehicleIdFromVin(vehicle.spec.vin))).status as VehicleStatus);
      const shared = Object.keys(a).filter((k) => k in b && !NOT_COMPARABLE.some((re) => re.test(k)));
      expect(shared.length, `fields both APIs carry: ${shared.join(', ')}`).to.be.at.least(8);
      for (const key of shared) {
        const [x, y] = [a[key], b[key]];
        // Ranges and levels go through each API's own rounding.
        if (typeof x === 'number' && typeof y === 'number') expect(y, key).to.be.closeTo(x, 0.51);
        // FordConnect v1 has no word for "plugged, waiting for its charge window" (it says Ready); Query says SCHEDULED.
        else if (key === 'charging.status' && x === 'plugged' && y === 'scheduled') expect((vehicle.spec.chargeSchedules ?? []).length, 'a schedule to wait for').to.be.greaterThan(0);
        else expect(y, key).to.deep.equal(x);
      }
      // The essentials are among them.
      expect(shared).to.include.members(['lock', 'odometerKm', 'ignition', 'engineType', 'name']);
    });
  }
});
