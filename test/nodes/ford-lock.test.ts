import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import type { AuditRecord } from '../../src/lib/audit';
import { commandRunner } from '../../src/lib/commands';
import { accountNode, realPause, until, vehicleNode, VehicleFlow, type Outputs } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const SEC = 1000;

interface Result {
  action: string;
  vehicle: string;
  status: string;
  commandId: string;
  durationMs: number;
  reason?: string;
  lock?: string;
}

describe('ford-lock node (against the simulator, fake timers)', function () {
  const f = new VehicleFlow();
  let truck: { id: string; nickName: string };

  beforeEach(async () => {
    commandRunner.reset();
    await f.start();
    truck = f.ownedVehicles()[0];
  });
  afterEach(async () => {
    await f.stop();
  });

  /** Lets the vehicle answer (simulated time) and the node's status polls run (fake time) until `check` holds. */
  async function vehicleAnswers(check: () => boolean, what: string): Promise<void> {
    await until(() => f.sim.world.counts.get('api.total') > 0, 'the command to reach the simulator');
    await f.vehicleAnswers(check, what);
  }


  function result(o: Outputs, i = -1): Result {
    return o.out.at(i)?.payload as Result;
  }

  /** The simulator's own record of each command's outcome (the owner's audit log). */
  function simOutcomes(): Map<string, string> {
    const out = new Map<string, string>();
    for (const e of f.sim.world.audit.all()) {
      const m = /^\w+ ([0-9a-f]{32}): (COMPLETED|FAILED)/.exec(e.detail);
      if (m) out.set(m[1], e.outcome);
    }
    return out;
  }

  function expectAuditAgreement(records: AuditRecord[]): void {
    const sim = simOutcomes();
    const withCommand = records.filter((r) => r.commandId && r.outcome !== 'timeout');
    expect(withCommand.length, 'node audit records with a command id').to.be.greaterThan(0);
    for (const r of withCommand) expect(sim.get(r.commandId as string), `simulator outcome of ${r.action} ${r.commandId}`).to.equal(r.outcome);
  }

  it('locks: one command, its status followed to COMPLETED, the fresh lock state, an audit record the simulator agrees with', async () => {
    await f.load([accountNode(f.sim.url, ['read:status', 'command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock', confirm: true, timeout: 60 })]);
    f.sim.world.fleet.patch(truck.id, { locked: false });
    await f.authorize(['read:status', 'command:lock']);
    f.sim.world.counts.reset();
    const o = f.of('k1');
    helper.getNode('k1').receive({ payload: 'ignored when the action is configured', topic: 'night' });
    await vehicleAnswers(() => o.out.length === 1, 'the lock result');

    expect(result(o)).to.include({ action: 'lock', vehicle: truck.id, status: 'success', lock: 'locked' });
    expect(result(o).commandId).to.match(/^[0-9a-f]{32}$/);
    expect(o.out[0].topic).to.match(/^ford\/.+\/lock$/);
    expect(f.sim.world.counts.get('api.command.lock')).to.equal(1);
    // Quick polls: the answer comes within about a second of the vehicle finishing.
    expect(f.sim.world.counts.get('api.command.status')).to.be.within(1, 4);
    expect(o.audit.map((r) => `${r.action}:${r.outcome}`)).to.deep.equal(['lock:ok', 'status.read:ok']);
    expect(o.audit[0]).to.include({ action: 'lock', scope: 'command:lock', outcome: 'ok', commandId: result(o).commandId });
    expect(o.audit[0].vehicle).to.equal(`…${truck.id.slice(-4)}`);
    expect(o.audit[0].durationMs).to.be.a('number');
    expect(f.lastStatus('k1')?.text).to.match(/^locked · /);
    expect(f.sim.world.fleet.get(truck.id)?.state.locked).to.equal(true);
    expectAuditAgreement(o.audit);
  });

  it('asks the owner to confirm an unlock and acts only on the right id, in time, once', async () => {
    await f.load([accountNode(f.sim.url, ['read:status', 'command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'unlock', confirm: true, confirmWindow: 60, timeout: 60 })]);
    await f.authorize(['read:status', 'command:lock']);
    f.sim.world.counts.reset();
    const o = f.of('k1');

    helper.getNode('k1').receive({});
    await until(() => o.out.length === 1, 'the pending confirmation');
    const pending = o.out[0] as { payload: { status: string; action: string }; confirm: { id: string; expiresAt: string } };
    expect(pending.payload).to.include({ status: 'pending-confirmation', action: 'unlock' });
    expect(pending.confirm.id).to.be.a('string').with.length.greaterThan(15);
    expect(Date.parse(pending.confirm.expiresAt) - Date.now()).to.be.within(59 * SEC, 60 * SEC);
    expect(o.audit.at(-1)).to.include({ action: 'unlock', outcome: 'pending-confirmation' });
    expect(f.lastStatus('k1')?.fill).to.equal('yellow');

    // A wrong id, and a message claiming to confirm with `true`, are refused without a request.
    for (const wrong of ['not-the-id', true]) {
      const errors = f.errors('k1').length;
      helper.getNode('k1').receive({ confirm: wrong });
      await f.errorsReach('k1', errors + 1, 'the refusal');
      expect(String(f.errors('k1').at(-1))).to.match(/confirmation refused/);
      expect(o.audit.at(-1)).to.include({ action: 'unlock', outcome: 'denied' });
    }
    await realPause();
    expect(f.sim.world.counts.get('api.total')).to.equal(0);

    // The right id runs the parked unlock; what the confirming message says does not change it.
    helper.getNode('k1').receive({ confirm: pending.confirm, payload: 'lock', vehicleId: 'f'.repeat(32) });
    await vehicleAnswers(() => o.out.length === 2, 'the unlock result');
    expect(result(o)).to.include({ action: 'unlock', vehicle: truck.id, status: 'success', lock: 'unlocked' });
    expect(o.out[1]).to.not.have.property('confirm');
    const unlocked = o.audit.find((r) => r.action === 'unlock' && r.outcome === 'ok');
    expect(unlocked?.detail).to.match(/confirmed by the owner/);
    expect(f.sim.world.counts.get('api.command.unlock')).to.equal(1);

    // Used once: the same id again is refused.
    helper.getNode('k1').receive({ confirm: pending.confirm.id });
    await until(() => String(f.errors('k1').at(-1)).includes('already used'), 'the replay refusal');
    expect(f.sim.world.counts.get('api.command.unlock')).to.equal(1);
    expectAuditAgreement(o.audit);
  });

  it('refuses the pending message wired straight back as its own confirmation', async () => {
    await f.load([accountNode(f.sim.url, ['command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'unlock', confirm: true })]);
    await f.authorize(['command:lock']);
    f.sim.world.counts.reset();
    const o = f.of('k1');
    helper.getNode('k1').receive({});
    await until(() => o.out.length === 1, 'the pending confirmation');
    helper.getNode('k1').receive(o.out[0]);
    await f.errorsReach('k1', 1, 'the refusal');
    expect(String(f.errors('k1')[0])).to.match(/pending message itself/);
    expect(o.audit.at(-1)).to.include({ action: 'unlock', outcome: 'denied' });
    expect(f.sim.world.counts.get('api.total')).to.equal(0);
  });

  it('asks for no confirmation it could not act on (cooldown), and says when an unanswered one has lapsed', async () => {
    await f.load([accountNode(f.sim.url, ['command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'msg', confirm: true, confirmWindow: 30 })]);
    await f.authorize(['command:lock']);
    const o = f.of('k1');
    helper.getNode('k1').receive({ payload: 'unlock' });
    await until(() => o.out.length === 1, 'the pending confirmation');
    await f.clock.tickAsync(31 * SEC);
    expect(f.lastStatus('k1')).to.deep.equal({ fill: 'grey', shape: 'ring', text: 'unlock not confirmed in time' });
    await until(() => o.audit.at(-1)?.outcome === 'timeout', 'the lapse in the audit');
    expect(o.audit.at(-1)?.detail).to.match(/not confirmed within 30 s: nothing was sent/);

    helper.getNode('k1').receive({ payload: 'unlock' });
    await until(() => o.out.length === 2, 'a second pending confirmation');
    helper.getNode('k1').receive({ confirm: (o.out[1] as { confirm: { id: string } }).confirm.id });
    await vehicleAnswers(() => o.out.length === 3, 'the unlock');
    f.sim.world.counts.reset();
    helper.getNode('k1').receive({ payload: 'unlock' });
    await f.errorsReach('k1', 1, 'the cooldown refusal');
    expect(o.out).to.have.length(3);
    expect(o.audit.at(-1)).to.include({ action: 'unlock', outcome: 'rate-limited' });
    expect(f.sim.world.counts.get('api.total')).to.equal(0);
  });

  it('refuses an unknown configured action instead of guessing, and a lock-only node ignores msg.confirm', async () => {
    await f.load([
      accountNode(f.sim.url, ['command:lock']),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'open' }),
      ...vehicleNode('ford-lock', 'k2', { vehicleId: truck.id, action: 'lock' }),
    ]);
    await f.authorize(['command:lock']);
    f.sim.world.counts.reset();
    expect(f.lastStatus('k1')?.text).to.match(/unknown action/);
    helper.getNode('k1').receive({ payload: 'lock' });
    await f.errorsReach('k1', 1, 'the refusal');
    expect(String(f.errors('k1')[0])).to.match(/unknown action "open": choose lock, unlock or msg/);
    helper.getNode('k2').receive({ confirm: 'left over from another flow' });
    await vehicleAnswers(() => f.of('k2').out.length === 1, 'the lock');
    expect(result(f.of('k2'))).to.include({ action: 'lock', status: 'success' });
    expect(f.sim.world.counts.get('api.command.unlock')).to.equal(0);
  });

  it('refuses a confirmation that comes too late', async () => {
    await f.load([accountNode(f.sim.url, ['command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'msg', confirm: true, confirmWindow: 30 })]);
    await f.authorize(['command:lock']);
    f.sim.world.counts.reset();
    const o = f.of('k1');
    helper.getNode('k1').receive({ payload: 'unlock' });
    await until(() => o.out.length === 1, 'the pending confirmation');
    const id = (o.out[0] as { confirm: { id: string } }).confirm.id;
    await f.clock.tickAsync(31 * SEC);
    helper.getNode('k1').receive({ confirm: id });
    await f.errorsReach('k1', 1, 'the refusal');
    expect(String(f.errors('k1')[0])).to.match(/too late/);
    expect(o.audit.at(-1)).to.include({ action: 'unlock', outcome: 'denied' });
    await realPause();
    expect(f.sim.world.counts.get('api.total')).to.equal(0);
  });

  it('takes "lock" / "unlock" from msg.payload and refuses anything else by naming what is accepted', async () => {
    await f.load([accountNode(f.sim.url, ['command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'msg', confirm: false })]);
    await f.authorize(['command:lock']);
    f.sim.world.counts.reset();
    const o = f.of('k1');
    const bad: unknown[] = ['LOCK', 'open', '', 1, true, null, { action: 'lock' }, ['lock'], 'x'.repeat(10_000)];
    for (const payload of bad) helper.getNode('k1').receive({ payload });
    await f.errorsReach('k1', bad.length, 'every refusal');
    for (const err of f.errors('k1')) expect(String(err)).to.match(/msg.payload must be "lock" or "unlock"/);
    expect(o.audit.filter((r) => r.outcome === 'failed' || r.outcome === 'denied')).to.have.length(bad.length);
    await realPause();
    expect(f.sim.world.counts.get('api.total')).to.equal(0);

    helper.getNode('k1').receive({ payload: 'unlock' });
    await vehicleAnswers(() => o.out.length === 1, 'the unlock (confirmation off)');
    expect(result(o)).to.include({ action: 'unlock', status: 'success' });
  });

  it('reports a lock the vehicle refuses (door ajar) and a vehicle that does not answer (offline) as failed', async () => {
    await f.load([accountNode(f.sim.url, ['command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock', cooldown: 0 })]);
    await f.authorize(['command:lock']);
    const o = f.of('k1');
    f.sim.world.fleet.patch(truck.id, { locked: false, doorsOpen: ['REAR_LEFT'] });
    helper.getNode('k1').receive({});
    await vehicleAnswers(() => o.out.length === 1, 'the failed lock');
    expect(result(o)).to.include({ action: 'lock', status: 'failed' });
    expect(result(o).reason).to.match(/door ajar/);
    expect(o.audit.at(-1)).to.include({ action: 'lock', outcome: 'failed' });
    expect(String(f.errors('k1').at(-1))).to.match(/lock failed: .*door ajar/);
    expect(f.lastStatus('k1')).to.include({ fill: 'red', shape: 'ring' });

    f.sim.world.fleet.patch(truck.id, { doorsOpen: [] });
    f.sim.world.faults.offlineVehicles.push(truck.id);
    f.sim.world.counts.reset();
    helper.getNode('k1').receive({});
    await vehicleAnswers(() => o.out.length === 2, 'the offline lock');
    expect(result(o)).to.include({ status: 'failed' });
    expect(result(o).reason).to.match(/offline/);
    expectAuditAgreement(o.audit);
  });

  it('times out when the vehicle never answers, says it may still act, and audits outcome timeout', async () => {
    await f.load([accountNode(f.sim.url, ['command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock', timeout: 10 })]);
    await f.authorize(['command:lock']);
    f.sim.world.counts.reset();
    const o = f.of('k1');
    helper.getNode('k1').receive({});
    await until(() => f.sim.world.counts.get('api.command.lock') === 1, 'the command');
    // Simulated time stands still: the command stays PENDINGRESPONSE.
    for (let i = 0; i < 60 && o.out.length === 0; i++) {
      await f.clock.tickAsync(500);
      await realPause(5);
    }
    await until(() => o.out.length === 1, 'the timeout');
    expect(result(o)).to.include({ status: 'timeout' });
    expect(result(o).reason).to.match(/may still act/);
    expect(result(o).durationMs).to.be.within(10 * SEC, 11 * SEC);
    expect(o.audit.at(-1)).to.include({ action: 'lock', outcome: 'timeout' });
    expect(f.lastStatus('k1')?.fill).to.equal('yellow');
    // Quick at first, then easing off: a handful of polls in 10 s, not one every 250 ms.
    expect(f.sim.world.counts.get('api.command.status')).to.be.within(5, 14);
  });

  it('refuses without command:lock, ticked or granted, before any request', async () => {
    await f.load([accountNode(f.sim.url, ['read:status']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock' })]);
    await f.authorize(['read:status']);
    f.sim.world.counts.reset();
    const o = f.of('k1');
    expect(f.lastStatus('k1')).to.deep.equal({ fill: 'red', shape: 'ring', text: 'command:lock not granted' });
    helper.getNode('k1').receive({});
    await f.errorsReach('k1', 1, 'the refusal');
    expect(String(f.errors('k1')[0])).to.match(/command:lock is not ticked in the account or not granted/);
    expect(o.audit.at(-1)).to.include({ action: 'lock', scope: 'command:lock', outcome: 'denied' });
    expect(o.out).to.have.length(0);
    await realPause();
    expect(f.sim.world.counts.get('api.total')).to.equal(0);
  });

  it('refuses when the owner did not grant command:lock at the consent page, even though the account ticks it', async () => {
    await f.load([accountNode(f.sim.url, ['read:status', 'command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock' })]);
    await f.authorize(['read:status']);
    f.sim.world.counts.reset();
    helper.getNode('k1').receive({});
    await f.errorsReach('k1', 1, 'the refusal');
    expect(f.of('k1').audit.at(-1)).to.include({ outcome: 'denied' });
    await realPause();
    expect(f.sim.world.counts.get('api.total')).to.equal(0);
  });

  it('refuses plainly on Ford\'s read-only FordConnect Query preset, before any request', async () => {
    await f.load([accountNode(f.sim.url, ['read:status', 'command:lock'], { preset: 'ford' }), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock' })]);
    helper.getNode('k1').receive({});
    await f.errorsReach('k1', 1, 'the refusal');
    expect(String(f.errors('k1')[0])).to.match(/offers no remote commands/);
    expect(f.of('k1').audit.at(-1)).to.include({ action: 'lock', outcome: 'denied' });
    expect(f.sim.world.counts.get('api.total')).to.equal(0);
  });

  it('keeps a cooldown per vehicle and action: a second lock too soon is refused as rate-limited, with no request', async () => {
    await f.load([accountNode(f.sim.url, ['command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock', cooldown: 30 })]);
    await f.authorize(['command:lock']);
    const o = f.of('k1');
    helper.getNode('k1').receive({});
    await vehicleAnswers(() => o.out.length === 1, 'the first lock');
    f.sim.world.counts.reset();
    helper.getNode('k1').receive({});
    await f.errorsReach('k1', 1, 'the cooldown refusal');
    expect(String(f.errors('k1')[0])).to.match(/cooldown 30 s/);
    expect(o.audit.at(-1)).to.include({ action: 'lock', outcome: 'rate-limited' });
    expect(f.lastStatus('k1')).to.include({ fill: 'yellow', text: 'cooldown' });
    await realPause();
    expect(f.sim.world.counts.get('api.total')).to.equal(0);

    await f.clock.tickAsync(30 * SEC);
    helper.getNode('k1').receive({});
    await vehicleAnswers(() => o.out.length === 2, 'the lock after the cooldown');
    expect(result(o)).to.include({ status: 'success' });
  });

  it('folds identical concurrent commands to one vehicle into one, and every sender gets the result', async () => {
    await f.load([
      accountNode(f.sim.url, ['command:lock']),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock' }),
      ...vehicleNode('ford-lock', 'k2', { vehicleId: truck.id, action: 'lock' }),
    ]);
    await f.authorize(['command:lock']);
    f.sim.world.counts.reset();
    helper.getNode('k1').receive({});
    helper.getNode('k2').receive({});
    helper.getNode('k1').receive({});
    await vehicleAnswers(() => f.of('k1').out.length === 2 && f.of('k2').out.length === 1, 'every result');
    expect(f.sim.world.counts.get('api.command.lock')).to.equal(1);
    const ids = [...f.of('k1').out, ...f.of('k2').out].map((m) => (m.payload as Result).commandId);
    expect(new Set(ids).size).to.equal(1);
    expect([...f.of('k1').audit, ...f.of('k2').audit].filter((r) => /joined an identical command/.test(r.detail))).to.have.length(2);
  });

  it('recovers from a 401 in the middle of a command through exactly one refresh', async () => {
    await f.load([accountNode(f.sim.url, ['command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock' })]);
    await f.authorize(['command:lock']);
    const o = f.of('k1');
    f.sim.world.counts.reset();
    helper.getNode('k1').receive({});
    await until(() => f.sim.world.counts.get('api.command.lock') === 1, 'the command');
    f.sim.world.store.expireAllAccessTokens();
    await vehicleAnswers(() => o.out.length === 1, 'the result after the refresh');
    expect(result(o)).to.include({ status: 'success' });
    expect(f.sim.world.counts.get('oauth.token.refresh_token')).to.equal(1);
    expect(f.sim.world.counts.get('api.command.lock')).to.equal(1);
    expect(f.account.auditRing.list().filter((r) => r.action === 'token.refresh')).to.have.length(1);
  });

  it('refuses a hostile msg.vehicleId before any request', async () => {
    await f.load([accountNode(f.sim.url, ['command:lock']), ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'lock' })]);
    await f.authorize(['command:lock']);
    f.sim.world.counts.reset();
    const hostile: unknown[] = ['../../oauth2/v2.0/token', `${truck.id}?x=1`, 'a'.repeat(100_000), { id: truck.id }, 42, ''];
    for (const vehicleId of hostile) helper.getNode('k1').receive({ vehicleId });
    await f.errorsReach('k1', hostile.length, 'every refusal');
    expect(f.of('k1').audit).to.have.length(hostile.length);
    await realPause();
    expect(f.sim.world.counts.get('api.total')).to.equal(0);
  });
});
