import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import { faultSuite, measured } from '../helpers/fault-flow';
import { accountNode, until, vehicleNode } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const SEC = 1000;
const MIN = 60 * SEC;
const SCOPES = ['read:status', 'read:location', 'command:lock', 'command:horn-lights', 'command:remote-start'];

/**
 * Storms of the simulator's injected faults — 5xx for ten minutes, 429s
 * with Retry-After, latency spikes under and over the kit's 15 s request
 * timeout — on a flow with every kind of node: each fault gives a clear
 * node error (or a wait, for 429), an audit record, no crash, no unhandled
 * rejection, and no more requests at the simulator than backoff allows.
 */
describe('reliability: 5xx storms, 429 storms and latency spikes', function () {
  const { f, truck } = faultSuite();

  function everyNode(): ReturnType<typeof vehicleNode> {
    return [
      ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' }),
      ...vehicleNode('ford-location', 'l1', { vehicleId: truck.id, optIn: true, interval: 30, precision: 0, output: 'always' }),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'msg', confirm: false, timeout: 60 }),
      ...vehicleNode('ford-horn-lights', 'h1', { vehicleId: truck.id, timeout: 60 }),
      ...vehicleNode('ford-remote-start', 'r1', { vehicleId: truck.id, action: 'msg', confirm: false, timeout: 60 }),
    ];
  }

  async function startFlow(): Promise<void> {
    await f.load([accountNode(f.sim.url, SCOPES), ...everyNode()]);
    await f.authorize(SCOPES);
    await f.advance(0);
    await until(() => f.of('s1').out.length === 1 && f.of('l1').out.length === 1, 'the first poll');
    f.sim.world.counts.reset();
  }

  /** Sends one command to each command node. */
  function commandEveryNode(): void {
    helper.getNode('k1').receive({ payload: 'lock' });
    helper.getNode('h1').receive({});
    helper.getNode('r1').receive({ payload: 'start' });
  }

  const POSTS = (): number[] => [f.count('api.command.lock'), f.count('api.command.signal'), f.count('api.command.startEngine')];

  it('a ten-minute 5xx storm: every node errors clearly, polls back off (4–5 calls per kind, not 20), no command is sent again blindly (a lock, once more); all recover after', async () => {
    await startFlow();
    f.sim.world.faults.errorRate = 1;
    commandEveryNode();
    await f.settle();
    await until(() => ['k1', 'h1', 'r1'].every((id) => f.errors(id).length === 1 && f.of(id).audit.length === 1), 'the three command errors');
    for (const [id, action, then] of [
      ['k1', 'lock', 'sent once more \\(locking twice is harmless\\), which POST /v1/vehicles/…[0-9a-f]{4}/lock: the API failed with HTTP 503; check the vehicle'],
      ['h1', 'horn-lights', 'it was not sent again; check the vehicle before sending it again'],
      ['r1', 'remote-start', 'it was not sent again; check the vehicle before sending it again'],
    ] as const) {
      expect(String(f.errors(id)[0]), id).to.match(new RegExp(`^Error: ford-[a-z-]+: POST /v1/vehicles/…[0-9a-f]{4}/[a-zA-Z]+: the API failed with HTTP 503: no answer, so ${action} may have reached the vehicle; ${then}$`));
      // A 5xx is no answer from the vehicle: like a timeout, it may still act.
      expect(f.of(id).audit.at(-1), id).to.include({ action, outcome: 'timeout', httpStatus: 503 });
      expect(f.lastStatus(id), id).to.deep.include({ fill: 'yellow', shape: 'ring', text: `${action}: may have reached the car` });
    }

    await f.advance(10 * MIN);
    const info = f.count('api.vehicle.info');
    const loc = f.count('api.vehicle.location');
    measured('5xx storm, 10 min: status / location polls at the simulator', [info, loc]);
    // Polls at +30 s, then after 30–60, 60–120, 120–240, 240–480 s (jitter): 4 or 5 in 600 s; every 30 s would be 20.
    expect(info, 'status polls during the storm').to.be.within(4, 5);
    expect(loc, 'location polls during the storm').to.be.within(4, 5);
    expect(POSTS(), 'command POSTs: one each, the lock once more').to.deep.equal([2, 1, 1]);
    expect(f.count('api.command.status'), 'no command to follow').to.equal(0);
    expect(f.count('api.total')).to.equal(info + loc + 4);
    expect(f.answers('api.503')).to.equal(info + loc + 4);
    for (const [id, n] of [['s1', info], ['l1', loc]] as const) {
      expect(f.errors(id), `${id} errors`).to.have.length(n);
      for (const err of f.errors(id)) expect(String(err)).to.match(/^ford-(status|location): GET \/v\d\/vehicles\/…[0-9a-f]{4}(\/location)?: the API failed with HTTP 503$/);
      expect(f.of(id).audit.filter((r) => r.outcome === 'failed' && r.httpStatus === 503), `${id} audit`).to.have.length(n);
      expect(f.lastStatus(id)?.text).to.match(/^retrying until \d\d:\d\d UTC$/);
    }
    expect(f.account.state).to.equal('authorized');
    expect(f.count('oauth.token.refresh_token'), 'a 503 is not a token problem').to.equal(0);

    // The storm ends: polls come back by themselves, commands go through.
    f.sim.world.faults.errorRate = 0;
    // Each kind comes back when its own backoff ends (after 5 failures that can be up to 15 min away).
    await f.advanceUntil(() => f.of('s1').out.length >= 2 && f.of('l1').out.length >= 2, 10 * SEC, 16 * MIN);
    expect(f.lastStatus('s1')).to.include({ fill: 'green' });
    expect(f.lastStatus('l1')).to.include({ fill: 'green' });
    helper.getNode('k1').receive({ payload: 'lock' });
    await until(() => f.count('api.command.lock') === 3, 'the lock after the storm');
    // Output 1 had the storm's lock as a timeout (it may have reached the car); now the result of this one.
    await f.advanceUntil(() => f.of('k1').out.length === 2, 500, 10 * SEC);
    expect(f.of('k1').out.map((m) => (m.payload as { status: string }).status)).to.deep.equal(['timeout', 'success']);
  });

  it('a ten-minute 429 storm (Retry-After 120 s): polls wait it out (≤ 6 calls per kind), yellow not red; a rate-limited command is not retried, and the next one waits for Retry-After', async () => {
    await startFlow();
    Object.assign(f.sim.world.faults, { rateLimitRate: 1, retryAfterSeconds: 120 });
    await f.advance(10 * MIN);
    const info = f.count('api.vehicle.info');
    const loc = f.count('api.vehicle.location');
    measured('429 storm, 10 min, Retry-After 120 s: status / location polls', [info, loc]);
    // At +30 s, then every 120 s: 5 in 600 s; every 30 s would be 20.
    expect(info, 'status polls').to.be.within(4, 6);
    expect(loc, 'location polls').to.be.within(4, 6);
    for (const id of ['s1', 'l1']) {
      expect(f.errors(id), `${id}: a 429 is a wait, not an error`).to.deep.equal([]);
      expect(f.lastStatus(id)?.text, id).to.match(/^rate limited until \d\d:\d\d UTC$/);
      expect(f.lastStatus(id)?.fill).to.equal('yellow');
    }
    const limited = f.of('s1').audit.filter((r) => r.outcome === 'rate-limited');
    expect(limited.length, 'one rate-limited audit record per 429').to.be.within(info - 1, info);
    expect(limited.every((r) => r.httpStatus === 429)).to.equal(true);

    // A command in the storm: one POST, answered 429, reported as rate limited, not retried.
    helper.getNode('k1').receive({ payload: 'lock' });
    await until(() => f.errors('k1').length === 1 && f.of('k1').audit.length === 1, 'the rate-limited lock');
    expect(String(f.errors('k1')[0])).to.match(/rate limited, retry after 120 s/);
    expect(f.of('k1').audit.at(-1)).to.include({ action: 'lock', outcome: 'rate-limited', httpStatus: 429 });
    expect(f.lastStatus('k1')).to.deep.include({ fill: 'yellow' });
    await f.advance(60 * SEC);
    expect(f.count('api.command.lock'), 'not retried').to.equal(1);

    // The flow asks again within Retry-After: refused without a request, saying when.
    helper.getNode('k1').receive({ payload: 'lock' });
    await until(() => f.errors('k1').length === 2 && f.of('k1').audit.length === 2, 'the second lock');
    expect(f.count('api.command.lock'), 'no POST within Retry-After').to.equal(1);
    expect(String(f.errors('k1')[1])).to.match(/retry/i);
    expect(f.of('k1').audit.at(-1)).to.include({ action: 'lock', outcome: 'rate-limited' });

    // The storm ends: everything resumes by itself.
    f.sim.world.faults.rateLimitRate = 0;
    await f.advanceUntil(() => f.of('s1').out.length >= 2 && f.of('l1').out.length >= 2, 10 * SEC, 3 * MIN);
    expect(f.lastStatus('s1')).to.include({ fill: 'green' });
    await f.advance(60 * SEC);
    helper.getNode('k1').receive({ payload: 'lock' });
    await until(() => f.count('api.command.lock') === 2, 'the lock after Retry-After');
    await f.advanceUntil(() => f.of('k1').out.length === 1, 500, 10 * SEC);
    expect(f.of('k1').out[0].payload).to.include({ action: 'lock', status: 'success' });
  });

  it('latency of 5 s on every answer: polls and commands slow down but work — one call per poll, no overlap, no error', async () => {
    await startFlow();
    f.sim.world.faults.latencyMs = 5 * SEC;
    commandEveryNode();
    await f.advanceUntil(() => ['k1', 'h1', 'r1'].every((id) => f.of(id).out.length === 1), 500, 60 * SEC);
    for (const id of ['k1', 'h1', 'r1']) expect(f.of(id).out[0].payload, id).to.include({ status: 'success' });
    expect(POSTS()).to.deep.equal([1, 1, 1]);
    await f.advance(5 * MIN);
    const info = f.count('api.vehicle.info');
    measured('latency 5 s, ~6 min: status polls, command-status polls', [info, f.count('api.command.status')]);
    // A poll every 30 s after the previous answer: one per 35 s at most, plus the reads after each command.
    expect(info).to.be.within(6, 16);
    expect(f.count('api.command.status'), 'command follow-ups with 5 s answers').to.be.at.most(3 * 6);
    for (const id of ['s1', 'l1', 'k1', 'h1', 'r1']) expect(f.errors(id), id).to.deep.equal([]);
    expect(f.lastStatus('s1')).to.include({ fill: 'green' });
  });

  it('latency of 20 s, over the kit\'s 15 s request timeout: polls time out and back off, an unlock times out, is never re-sent, and the message says it timed out', async () => {
    await f.load([accountNode(f.sim.url, SCOPES), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' }), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'unlock', confirm: false, timeout: 60 })]);
    await f.authorize(SCOPES);
    f.sim.world.counts.reset();
    f.sim.world.faults.latencyMs = 20 * SEC;
    helper.getNode('k1').receive({});
    await f.advance(0);
    await f.advanceUntil(() => f.errors('k1').length === 1, SEC, 30 * SEC);
    await until(() => f.of('k1').audit.length === 1, 'the audit record');
    expect(String(f.errors('k1')[0])).to.match(
      /^Error: ford-lock: POST \/v1\/vehicles\/…[0-9a-f]{4}\/unlock timed out: no answer, so unlock may have reached the vehicle; it was not sent again; check the vehicle before sending it again$/,
    );
    expect(f.of('k1').audit[0]).to.include({ action: 'unlock', outcome: 'timeout' });
    expect(String(f.errors('s1')[0])).to.match(/^ford-status: GET \/v3\/vehicles\/…[0-9a-f]{4} timed out$/);

    await f.advance(10 * MIN);
    const info = f.count('api.vehicle.info');
    measured('latency 20 s, 10 min: status polls (each timing out)', info);
    expect(info, 'status polls, backing off after each timeout').to.be.within(3, 5);
    // The last of them may still be on its way to its timeout.
    expect(f.errors('s1').length).to.be.within(info - 1, info);
    expect(f.count('api.command.unlock'), 'unlock POSTs').to.equal(1);
    // The simulator carried the unlock out after 20 s: the kit had given up on the answer, not on the car.
    expect(f.sim.world.fleet.get(truck.id)?.state.locked).to.equal(false);

    f.sim.world.faults.latencyMs = 0;
    // The backoff after 5 failures can be 15 min (its cap).
    await f.advanceUntil(() => f.of('s1').out.length === 1, 10 * SEC, 16 * MIN);
    expect(f.lastStatus('s1')).to.include({ fill: 'green' });
  });

  it('a lock whose POST timed out (latency 20 s) is sent once more and, answered, followed to success; the vehicle got two locks, which is harmless', async () => {
    await f.load([accountNode(f.sim.url, ['command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock', confirm: false, timeout: 60 })]);
    await f.authorize(['command:lock']);
    f.sim.world.fleet.patch(truck.id, { locked: false });
    f.sim.world.counts.reset();
    f.sim.world.faults.latencyMs = 20 * SEC;
    helper.getNode('k1').receive({});
    await until(() => f.count('api.command.lock') === 1, 'the first lock at the simulator');
    // The held request keeps its 20 s; the second finds the simulator quick again.
    f.sim.world.faults.latencyMs = 0;
    await f.advanceUntil(() => f.of('k1').out.length === 1, SEC, 60 * SEC);
    await until(() => f.of('k1').out.length === 1, 'the lock result');
    expect(f.of('k1').out[0].payload).to.include({ action: 'lock', status: 'success' });
    expect(f.errors('k1')).to.deep.equal([]);
    expect(f.of('k1').audit.map((r) => `${r.action} ${r.outcome}`)).to.deep.equal(['lock ok']);
    expect(f.count('api.command.lock'), 'lock POSTs').to.equal(2);
    expect(f.sim.world.fleet.get(truck.id)?.state.locked).to.equal(true);
  });
});
