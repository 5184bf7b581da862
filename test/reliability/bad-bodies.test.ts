import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import type { VehicleStatus } from '../../src/lib/api/status';
import type { BodyFault } from '../../src/sim/control/faults';
import { faultSuite, measured } from '../helpers/fault-flow';
import { accountNode, until, vehicleNode } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const SEC = 1000;
const MIN = 60 * SEC;
const SCOPES = ['read:status', 'read:location', 'command:lock'];
const ID = '…[0-9a-f]{4}';

interface Case {
  fault: Exclude<BodyFault, 'none'>;
  /** The node error of a status poll, a location poll and the lock POST. */
  status: RegExp;
  location: RegExp;
  lock: RegExp;
}

const notJson = (what: string, status: number): RegExp => new RegExp(`^${what}: the API answered ${status} with a body that is not JSON$`);
/** The API took the lock (a 2xx) but its answer is unreadable: it may have acted, so it is not sent again. */
const acceptedUnreadable = (what: RegExp): RegExp =>
  new RegExp(`${what.source.replace(/\$$/, '')}: the API accepted it, but its answer could not be read, so lock may have reached the vehicle; it was not sent again; check the vehicle before sending it again$`);

const CASES: Case[] = [
  { fault: 'truncated', status: notJson(`GET /v3/vehicles/${ID}`, 200), location: notJson(`GET /v2/vehicles/${ID}/location`, 200), lock: acceptedUnreadable(notJson(`POST /v1/vehicles/${ID}/lock`, 202)) },
  { fault: 'non-json', status: notJson(`GET /v3/vehicles/${ID}`, 200), location: notJson(`GET /v2/vehicles/${ID}/location`, 200), lock: acceptedUnreadable(notJson(`POST /v1/vehicles/${ID}/lock`, 202)) },
  {
    fault: 'html',
    status: new RegExp(`^GET /v3/vehicles/${ID}: the API failed with HTTP 502$`),
    location: new RegExp(`^GET /v2/vehicles/${ID}/location: the API failed with HTTP 502$`),
    // A gateway's error page: no answer from the API behind it, so the lock (safe to repeat) is sent once more.
    lock: new RegExp(
      `^POST /v1/vehicles/${ID}/lock: the API failed with HTTP 502: no answer, so lock may have reached the vehicle; sent once more \\(locking twice is harmless\\), which POST /v1/vehicles/${ID}/lock: the API failed with HTTP 502; check the vehicle$`,
    ),
  },
  {
    fault: 'missing-fields',
    status: new RegExp(`^GET /v3/vehicles/${ID}: the vehicle information has no vehicle object$`),
    location: new RegExp(`^GET /v2/vehicles/${ID}/location: the location answer has no vehicleLocation$`),
    lock: acceptedUnreadable(new RegExp(`^POST /v1/vehicles/${ID}/lock: the answer has no usable commandId$`)),
  },
  {
    // Every field of the wrong type: never a made-up value, and no empty status that would look like a healthy car.
    fault: 'wrong-types',
    status: new RegExp(`^GET /v3/vehicles/${ID}: the vehicle information has no field of the type Ford documents$`),
    location: new RegExp(`^GET /v2/vehicles/${ID}/location: the location answer has no valid latitude and longitude$`),
    lock: acceptedUnreadable(new RegExp(`^POST /v1/vehicles/${ID}/lock: the answer has no usable commandId$`)),
  },
];

/**
 * Successful answers with a spoilt body (the simulator's `bodyFault`):
 * truncated JSON, plain text, a gateway's HTML error page, fields missing,
 * fields of the wrong type. The request itself was carried out (a command
 * did reach the vehicle). Each gives a clear node error and an audit
 * record, polls back off as for any error, and a command the API accepted
 * is neither re-sent nor open to an immediate second send.
 */
describe('reliability: truncated, non-JSON, HTML and ill-typed answers', function () {
  const { f, truck } = faultSuite();

  for (const c of CASES) {
    it(`bodyFault "${c.fault}": clear errors and audit records, backoff, the lock not sent again blindly (a gateway page: once more) and held back by its cooldown`, async () => {
      await f.load([
        accountNode(f.sim.url, SCOPES),
        ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' }),
        ...vehicleNode('ford-location', 'l1', { vehicleId: truck.id, optIn: true, interval: 30, precision: 0, output: 'always' }),
        ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock', timeout: 60 }),
      ]);
      await f.authorize(SCOPES);
      f.sim.world.fleet.patch(truck.id, { locked: false });
      await f.advance(0);
      await until(() => f.of('s1').out.length === 1 && f.of('l1').out.length === 1, 'the first poll');
      f.sim.world.counts.reset();
      f.sim.world.faults.bodyFault = c.fault;

      await f.advance(5 * MIN);
      const info = f.count('api.vehicle.info');
      const loc = f.count('api.vehicle.location');
      measured(`bodyFault ${c.fault}, 5 min: status / location polls`, [info, loc]);
      expect(f.answers('api.body-fault'), 'answers spoilt').to.equal(info + loc);

      // Location: at +30 s, then after 30–60, 60–120, 120–240 s: 3 or 4 calls in 5 minutes (every 30 s would be 10).
      expect(loc, 'location polls').to.be.within(3, 4);
      expect(f.errors('l1').map(String), 'location errors').to.have.length(loc);
      for (const err of f.errors('l1')) expect(String(err)).to.match(new RegExp(c.location.source.replace('^', '^ford-location: ')));
      expect(f.of('l1').audit.slice(1).map((r) => r.outcome)).to.deep.equal(Array(loc).fill('failed'));
      expect(f.of('l1').audit.at(-1)?.detail).to.match(c.location);
      expect(f.lastStatus('l1')?.text).to.match(/^retrying until/);

      expect(info, 'status polls').to.be.within(3, 4);
      expect(f.errors('s1'), 'status errors').to.have.length(info);
      for (const err of f.errors('s1')) expect(String(err)).to.match(new RegExp(c.status.source.replace('^', '^ford-status: ')));
      expect(f.of('s1').audit.at(-1)).to.include({ action: 'status.read', outcome: 'failed' });
      expect(f.of('s1').audit.at(-1)?.detail).to.match(c.status);
      expect(f.of('s1').out, 'no reading made of a bad body').to.have.length(1);

      // A lock: the vehicle carries it out, the answer is spoilt; one POST, an error, and the cooldown holds.
      helper.getNode('k1').receive({});
      await f.settle();
      await until(() => f.errors('k1').length === 1 && f.of('k1').audit.length === 1, 'the lock error');
      expect(String(f.errors('k1')[0])).to.match(new RegExp(c.lock.source.replace('^', '^Error: ford-lock: ')));
      expect(f.of('k1').audit[0]).to.include({ action: 'lock', outcome: 'timeout' });
      expect(f.of('k1').audit[0].detail).to.match(c.lock);
      expect(f.lastStatus('k1')).to.deep.include({ fill: 'yellow', shape: 'ring', text: 'lock: may have reached the car' });
      // The vehicle answers after 4 s; the lock's cooldown is 5 s.
      await f.advance(4.5 * SEC);
      expect(f.sim.world.fleet.get(truck.id)?.state.locked, 'the vehicle locked all the same').to.equal(true);
      helper.getNode('k1').receive({});
      await until(() => f.errors('k1').length === 2 && f.of('k1').audit.length === 2, 'the second lock');
      expect(String(f.errors('k1')[1]), 'the API took the first: no second one straight away').to.match(/cooldown 5 s/);
      expect(f.count('api.command.lock'), 'lock POSTs').to.equal(c.fault === 'html' ? 2 : 1);
      expect(f.count('api.command.status'), 'no command id: nothing to follow').to.equal(0);

      // Good answers again: everything recovers by itself.
      f.sim.world.faults.bodyFault = 'none';
      const [sOut, lOut] = [f.of('s1').out.length, f.of('l1').out.length];
      await f.advanceUntil(() => f.of('s1').out.length > sOut && f.of('l1').out.length > lOut, 10 * SEC, 10 * MIN);
      expect(f.lastStatus('s1')).to.include({ fill: 'green' });
      expect(f.lastStatus('l1')).to.include({ fill: 'green' });
      expect((f.of('s1').out.at(-1)?.payload as VehicleStatus).lock).to.equal('locked');
      expect(f.account.state).to.equal('authorized');
    });
  }

  it('spoilt answers while a lock is being followed end it as timeout (it may still act): after a few tries, never waiting out the timeout — one POST each', async () => {
    await f.load([accountNode(f.sim.url, ['command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'msg', confirm: false, timeout: 20, cooldown: 0 })]);
    await f.authorize(['command:lock']);
    f.sim.world.counts.reset();
    const o = f.of('k1');

    for (const [fault, outcome, reason] of [
      ['truncated', 'timeout', /^could not follow the command: GET .* the API answered 200 with a body that is not JSON; the vehicle may still act$/],
      ['wrong-types', 'timeout', /^could not follow the command: GET .*: commandStatus is a boolean, not one the API documents; the vehicle may still act$/],
    ] as const) {
      const before = o.out.length;
      const polls = f.count('api.command.status');
      const posts = f.count('api.command.lock');
      helper.getNode('k1').receive({ payload: 'lock' });
      await until(() => f.count('api.command.lock') === posts + 1, 'the POST');
      await f.settle();
      f.sim.world.faults.bodyFault = fault;
      await f.advanceUntil(() => o.out.length === before + 1, 250, 30 * SEC);
      await until(() => o.out.length === before + 1, `the ${fault} result`);
      f.sim.world.faults.bodyFault = 'none';
      const result = o.out.at(-1)?.payload as { status: string; reason: string };
      expect(result.status, fault).to.equal(outcome);
      expect(result.reason, fault).to.match(reason);
      expect(o.audit.at(-1)).to.include({ action: 'lock', outcome });
      measured(`bodyFault ${fault} while following a lock: command-status polls`, f.count('api.command.status') - polls);
      // Quick polls at first, then every 3 s: bounded however long the answers stay bad.
      expect(f.count('api.command.status') - polls, `${fault}: status polls`).to.equal(5);
    }
    expect(f.count('api.command.lock'), 'lock POSTs').to.equal(2);
  });
});
