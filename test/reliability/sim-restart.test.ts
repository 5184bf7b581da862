import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import { vehicleHubs } from '../../src/lib/vehicle-hub';
import { startSimulator } from '../../src/sim/server';
import { faultSuite } from '../helpers/fault-flow';
import { accountNode, until, vehicleNode } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const SEC = 1000;
const MIN = 60 * SEC;
const READS = ['read:status', 'read:location'];

/**
 * The simulator goes away and comes back (the same one, same port, same
 * state: `stopListening` / `listenAgain`), while nodes poll and while a
 * command is under way. Nodes must say so, come back by themselves, and
 * never send a command twice.
 */
describe('reliability: the simulator stops and restarts mid-poll and mid-command', function () {
  const { f, truck } = faultSuite();

  it('status and location polls under way when it stops fail clearly, back off while it is down, and resume by themselves', async () => {
    await f.load([
      accountNode(f.sim.url, READS),
      ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' }),
      ...vehicleNode('ford-location', 'l1', { vehicleId: truck.id, optIn: true, interval: 30, precision: 0, output: 'always' }),
    ]);
    await f.authorize(READS);
    const s = f.of('s1');
    const l = f.of('l1');
    await f.advance(0);
    await until(() => s.out.length === 1 && l.out.length === 1, 'the first poll');
    expect(f.lastStatus('s1')).to.include({ fill: 'green' });

    // The next polls reach the simulator and are held there (latency) when it goes down.
    f.sim.world.counts.reset();
    f.sim.world.faults.latencyMs = 2 * SEC;
    await f.advance(30 * SEC);
    await until(() => f.count('api.vehicle.info') === 1 && f.count('api.vehicle.location') === 1, 'both polls at the simulator');
    await f.sim.stopListening();
    f.sim.world.faults.latencyMs = 0;
    await until(() => f.errors('s1').length === 1 && f.errors('l1').length === 1 && s.audit.length === 2 && l.audit.length === 2, 'both polls failing');

    // The held reads were reset with their connections; a read is tried once more on a fresh one, which is refused.
    for (const [id, o, action] of [['s1', s, 'status.read'], ['l1', l, 'location.read']] as const) {
      expect(String(f.errors(id)[0]), `${id} error`).to.match(/^ford-(status|location): GET \/v\d\/vehicles\/…[0-9a-f]{4}(\/location)? failed \(ECONNREFUSED\)$/);
      expect(o.audit.at(-1), `${id} audit`).to.include({ action, outcome: 'failed' });
      expect(o.audit.at(-1)?.detail).to.match(/failed \(ECONNREFUSED\)$/);
      expect(f.statuses(id).some((st) => st.fill === 'red'), `${id} went red`).to.equal(true);
      expect(f.lastStatus(id)?.text, `${id} says it retries`).to.match(/^retrying until \d\d:\d\d UTC$/);
      expect(f.lastStatus(id)).to.include({ fill: 'yellow' });
    }

    // Five minutes down: the attempts are spaced by the backoff (30 s × 2^k with jitter), not every 30 s.
    const hub = vehicleHubs.get(f.account, truck.id);
    await f.advance(5 * MIN);
    const failedPolls = (id: string): number => f.of(id).audit.filter((r) => r.outcome === 'failed').length;
    // Failures at 0 (the held poll), then after 30–60, 60–120, 120–240 s: 3 or 4 within 5 minutes (every 30 s would be 11).
    expect(failedPolls('s1'), 'status attempts while down').to.be.within(3, 4);
    expect(failedPolls('l1'), 'location attempts while down').to.be.within(3, 4);
    expect(f.errors('s1')).to.have.length(failedPolls('s1'));
    expect(f.errors('l1')).to.have.length(failedPolls('l1'));
    for (const err of f.errors('s1')) expect(String(err)).to.match(/failed \(ECONNREFUSED\)$/);
    expect(s.out).to.have.length(1);

    // Back on the same port with the same state: the next attempt succeeds, no re-authorization, no refresh.
    const refreshes = f.count('oauth.token.refresh_token');
    await f.sim.listenAgain();
    const waited = [hub!.waitingState('status'), hub!.waitingState('location')];
    expect(waited.map((w) => w?.reason)).to.deep.equal(['backoff', 'backoff']);
    const resumeIn = Math.max(...waited.map((w) => (w!.until as number) - Date.now()));
    expect(resumeIn, 'the backoff in force').to.be.at.most(8 * MIN);
    // Each kind has its own backoff: each comes back when its own ends.
    const spent = await f.advanceUntil(() => s.out.length >= 2 && l.out.length >= 2, 5 * SEC, 10 * MIN);
    await until(() => s.out.length >= 2 && l.out.length >= 2, 'the polls after the restart');
    expect(spent, 'recovered as soon as the backoff in force let it').to.be.at.most(resumeIn + 5 * SEC);
    expect(f.lastStatus('s1')).to.include({ fill: 'green', shape: 'dot' });
    expect(f.lastStatus('l1')).to.include({ fill: 'green', shape: 'dot' });
    expect(s.audit.at(-1)).to.include({ action: 'status.read', outcome: 'ok' });
    expect(f.count('oauth.token.refresh_token')).to.equal(refreshes);
    expect(f.account.state).to.equal('authorized');

    // And the normal interval again: one call each per 30 s.
    const [info, loc, sOut, lOut] = [f.count('api.vehicle.info'), f.count('api.vehicle.location'), s.out.length, l.out.length];
    await f.advance(30 * SEC);
    expect([s.out.length - sOut, l.out.length - lOut], 'readings in the next 30 s').to.deep.equal([1, 1]);
    expect([f.count('api.vehicle.info') - info, f.count('api.vehicle.location') - loc]).to.deep.equal([1, 1]);
    expect(f.errors('s1'), 'no error since the restart').to.have.length(failedPolls('s1'));
  });

  it('an unlock whose POST was under way when the simulator stopped is reported as "may have reached the vehicle" (timeout) and never sent again', async () => {
    await f.load([accountNode(f.sim.url, ['read:status', 'command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'unlock', confirm: false, timeout: 60 })]);
    await f.authorize(['read:status', 'command:lock']);
    f.sim.world.counts.reset();
    const o = f.of('k1');
    f.sim.world.faults.latencyMs = 2 * SEC;
    helper.getNode('k1').receive({});
    await until(() => f.count('api.command.unlock') === 1, 'the unlock at the simulator');
    await f.sim.stopListening();
    f.sim.world.faults.latencyMs = 0;
    await until(() => f.errors('k1').length === 1 && o.audit.length === 1, 'the failed unlock');

    expect(String(f.errors('k1')[0])).to.match(
      /^Error: ford-lock: POST \/v1\/vehicles\/…[0-9a-f]{4}\/unlock failed \((ECONNRESET|socket hang up)\): no answer, so unlock may have reached the vehicle; it was not sent again; check the vehicle before sending it again$/,
    );
    expect(o.audit[0]).to.include({ action: 'unlock', scope: 'command:lock', outcome: 'timeout' });
    expect(o.audit[0]).to.not.have.property('commandId');
    expect(f.lastStatus('k1')).to.deep.include({ fill: 'yellow', shape: 'ring', text: 'unlock: may have reached the car' });
    // The result, as for any timeout, without a command id (the API never gave one).
    expect(o.out.map((m) => m.payload)).to.deep.equal([{ action: 'unlock', vehicle: truck.id, status: 'timeout', reason: o.audit[0].detail }]);

    // Back again; ten minutes pass. The held request did reach the vehicle, and nothing sends it again.
    await f.sim.listenAgain();
    await f.advance(10 * MIN);
    expect(f.count('api.command.unlock'), 'unlock POSTs').to.equal(1);
    expect(f.count('api.total'), 'API requests of any kind').to.equal(1);
    expect(f.sim.world.fleet.get(truck.id)?.state.locked, 'the vehicle did act on it').to.equal(false);
    expect(o.audit).to.have.length(1);
  });

  it('a lock whose POST got no answer is sent once more (locking twice is harmless); with the simulator still down, it may have reached the vehicle', async () => {
    await f.load([accountNode(f.sim.url, ['command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock', confirm: false, timeout: 60 })]);
    await f.authorize(['command:lock']);
    f.sim.world.fleet.patch(truck.id, { locked: false });
    f.sim.world.counts.reset();
    const o = f.of('k1');
    f.sim.world.faults.latencyMs = 2 * SEC;
    helper.getNode('k1').receive({});
    await until(() => f.count('api.command.lock') === 1, 'the lock at the simulator');
    await f.sim.stopListening();
    f.sim.world.faults.latencyMs = 0;
    await until(() => f.errors('k1').length === 1 && o.audit.length === 1, 'the lock error');

    expect(String(f.errors('k1')[0])).to.match(
      /^Error: ford-lock: POST \/v1\/vehicles\/…[0-9a-f]{4}\/lock failed \((ECONNRESET|socket hang up)\): no answer, so lock may have reached the vehicle; sent once more \(locking twice is harmless\), which POST \/v1\/vehicles\/…[0-9a-f]{4}\/lock failed \(ECONNREFUSED\); check the vehicle$/,
    );
    expect(o.audit[0]).to.include({ action: 'lock', outcome: 'timeout' });
    expect(o.audit).to.have.length(1);
    await f.sim.listenAgain();
    await f.advance(10 * MIN);
    expect(f.count('api.command.lock'), 'lock POSTs that reached the simulator (the second found it down)').to.equal(1);
    expect(f.sim.world.fleet.get(truck.id)?.state.locked, 'the first did act').to.equal(true);
  });

  it('a remote start followed while the simulator is down: a short outage is ridden out, a long one ends as timeout (it may still act) — one POST each', async () => {
    await f.load([accountNode(f.sim.url, ['command:remote-start']), ...vehicleNode('ford-remote-start', 'r1', { vehicleId: truck.id, action: 'msg', confirm: false, timeout: 60 })]);
    await f.authorize(['command:remote-start']);
    f.sim.world.counts.reset();
    const o = f.of('r1');

    // Accepted (202), then the simulator is away for 2 s of the follow-up; the vehicle answers after 4 s.
    helper.getNode('r1').receive({ payload: 'start' });
    await until(() => f.count('api.command.startEngine') === 1, 'the start at the simulator');
    await f.settle();
    await f.sim.stopListening();
    await f.advance(2 * SEC);
    await f.sim.listenAgain();
    await f.advanceUntil(() => o.out.length === 1, 250, 10 * SEC);
    await until(() => o.out.length === 1, 'the start result');
    expect(o.out[0].payload).to.include({ action: 'remote-start', status: 'success' });
    expect(f.count('api.command.startEngine')).to.equal(1);
    expect(o.audit.at(-1)).to.include({ action: 'remote-start', outcome: 'ok' });

    // Stop: accepted, then the simulator stays away: after a few failed follow-ups the node gives up on following.
    helper.getNode('r1').receive({ payload: 'stop' });
    await until(() => f.count('api.command.stopEngine') === 1, 'the stop at the simulator');
    await f.settle();
    await f.sim.stopListening();
    await f.advanceUntil(() => o.out.length === 2, 250, 20 * SEC);
    await until(() => o.out.length === 2, 'the stop result');
    const stop = o.out[1].payload as { status: string; reason: string; commandId: string };
    expect(stop.status).to.equal('timeout');
    expect(stop.reason).to.equal(`could not follow the command: GET /v1/vehicles/${truck.id}/stopEngine/${stop.commandId} failed (ECONNREFUSED); the vehicle may still act`);
    expect(o.audit.at(-1)).to.include({ action: 'remote-stop', outcome: 'timeout', commandId: stop.commandId });
    expect(f.lastStatus('r1')).to.include({ fill: 'yellow', shape: 'ring' });
    expect(String(f.errors('r1').at(-1))).to.match(/remote-stop timed out: could not follow the command/);

    await f.sim.listenAgain();
    await f.advance(10 * MIN);
    expect([f.count('api.command.startEngine'), f.count('api.command.stopEngine')], 'start and stop POSTs').to.deep.equal([1, 1]);
    // The vehicle stopped all the same: the node said it could not follow, not that the car refused.
    expect(f.sim.world.fleet.get(truck.id)?.state.remoteStartUntil).to.equal(null);
  });

  it('a simulator that comes back without its state (same port, same seed): one refusal, re-authorization needed, no retry storm, then polls again once authorized', async () => {
    await f.load([accountNode(f.sim.url, READS), ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' })]);
    await f.authorize(READS);
    const s = f.of('s1');
    await f.advance(0);
    await until(() => s.out.length === 1, 'the first poll');

    const port = f.sim.port;
    await f.sim.close();
    f.sim = await startSimulator({ port, host: '127.0.0.1', seed: 42 });
    expect(f.ownedVehicles()[0].id, 'the same seed gives the same vehicles').to.equal(truck.id);

    await f.advanceUntil(() => f.account.state === 'reauth-needed', 5 * SEC, 60 * SEC);
    await until(() => f.lastStatus('s1')?.text === 're-authorization needed', 'the red status');
    await f.advance(30 * MIN);
    expect(f.count('api.total'), 'API calls in 30 minutes').to.equal(1);
    expect(f.count('oauth.token.refresh_token'), 'refresh attempts').to.equal(1);
    expect(f.answers('api.401')).to.equal(1);
    expect(f.account.auditRing.list().filter((r) => r.action === 'auth.revoked')).to.have.length(1);
    expect(f.lastStatus('s1')).to.deep.equal({ fill: 'red', shape: 'ring', text: 're-authorization needed' });

    await f.authorize(READS);
    await f.advanceUntil(() => s.out.length === 2, SEC, 10 * SEC);
    await until(() => s.out.length === 2, 'the poll after re-authorization');
    expect(f.lastStatus('s1')).to.include({ fill: 'green' });
  });
});
