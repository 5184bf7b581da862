import fs from 'node:fs';
import { expect } from 'chai';
import type { RunningSimulator } from '../../src/sim';
import { withSimulator } from '../helpers/sim';
import { ALL_CATEGORIES, mintQueryToken, queryGet } from '../helpers/fcon-query';
import { checkAgainst } from '../helpers/openapi-check';

/**
 * Every FordConnect Query body against Ford's own OpenAPI description
 * ("FCON Query service" 1.0.0, public in FabienDehopre/FordConnectToAbrpSync
 * at docs/ford-connect/openapi.json). No copy lives in this repository: point
 * FCON_OPENAPI_JSON at a downloaded one and run `npm run check:openapi`.
 * It is not part of `npm test` (CI has no copy); the hand-written shapes in
 * fcon-query-api.test.ts check the same fields there.
 */
const file = process.env.FCON_OPENAPI_JSON;

const ENDPOINTS: [string, string][] = [
  ['/garage', 'GarageResponseDTO'],
  ['/telemetry', 'TelemetryResponse'],
  ['/electric/charge-schedules', 'ChargeScheduleResponse'],
  ['/electric/departure-times', 'DepartureTimeResponse'],
  ['/vehicle-health/alerts', 'VehicleAlertResponse'],
];

describe("sim: FordConnect Query bodies against Ford's OpenAPI description (FCON_OPENAPI_JSON)", function () {
  let sim: RunningSimulator;
  let doc: { components: { schemas: Record<string, Record<string, unknown>> } };

  before(async function () {
    if (!file || !fs.existsSync(file)) throw new Error('set FCON_OPENAPI_JSON to a downloaded copy of Ford\'s openapi.json (FabienDehopre/FordConnectToAbrpSync, docs/ford-connect/openapi.json)');
    doc = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof doc;
    sim = await withSimulator();
  });
  after(() => sim?.close());

  it('validates garage, telemetry, schedules and alerts of every vehicle, parked, charging and driving', async () => {
    const problems: string[] = [];
    const check = async (label: string): Promise<void> => {
      for (const v of sim.world.fleet.list()) {
        const { token } = mintQueryToken(sim, v.id, ALL_CATEGORIES, { ownerId: v.ownerIds[0] });
        for (const [path, schema] of ENDPOINTS) {
          const res = await queryGet(sim.url, path, token);
          if (res.status === 200) problems.push(...checkAgainst(doc, schema, res.json).map((p) => `${label} ${v.nickName} ${path}: ${p}`));
          else expect(res.status, `${v.nickName} ${path}`).to.equal(404);
        }
      }
    };
    await check('parked');
    const [f150, machE] = sim.world.fleet.list();
    sim.world.fleet.patch(machE.id, { plugged: true, charging: true, chargerType: 'DC', chargerKw: 150 });
    sim.world.fleet.patch(f150.id, { driving: true, fuelPercent: 6, battery12VPercent: 15 });
    sim.world.clock.advance(120_000);
    await check('moving');
    expect(problems).to.deep.equal([]);
  });
});
