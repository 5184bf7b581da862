import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import { commandRunner } from '../../src/lib/commands';
import { consentAt } from '../helpers/consent';
import { accountNode, realPause, until, vehicleNode, VehicleFlow } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const SEC = 1000;
const MIN = 60 * SEC;

describe('ford-remote-start and ford-horn-lights nodes (against the simulator, fake timers)', function () {
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



  it('starts after confirmation, counts the run time down in its status, and stops', async () => {
    const scopes = ['read:status', 'command:remote-start'];
    await f.load([accountNode(f.sim.url, scopes), ...vehicleNode('ford-remote-start', 'r1', { vehicleId: truck.id, action: 'msg', confirm: true })]);
    await f.authorize(scopes);
    f.sim.world.counts.reset();
    const o = f.of('r1');

    helper.getNode('r1').receive({ payload: 'start' });
    await until(() => o.out.length === 1, 'the pending confirmation');
    expect(o.out[0].payload).to.include({ action: 'remote-start', status: 'pending-confirmation' });
    expect(o.audit.at(-1)).to.include({ action: 'remote-start', scope: 'command:remote-start', outcome: 'pending-confirmation' });
    await realPause();
    expect(f.sim.world.counts.get('api.total')).to.equal(0);

    helper.getNode('r1').receive({ confirm: (o.out[0] as { confirm: { id: string } }).confirm });
    await until(() => f.sim.world.counts.get('api.command.startEngine') === 1, 'the start command');
    await f.vehicleAnswers(() => o.out.length === 2, 'the start result');
    const started = o.out[1].payload as { status: string; engine?: { running: boolean; remainingMinutes?: number } };
    expect(started).to.include({ status: 'success' });
    expect(started.engine).to.deep.include({ running: true });
    const minutes = started.engine?.remainingMinutes as number;
    expect(minutes).to.be.within(9, 10);
    expect(f.lastStatus('r1')).to.deep.equal({ fill: 'green', shape: 'dot', text: `engine running · ${minutes} min left` });
    await f.clock.tickAsync(MIN);
    expect(f.lastStatus('r1')?.text).to.equal(`engine running · ${minutes - 1} min left`);

    // Stop is never held back by a confirmation, and not by start's cooldown either.
    helper.getNode('r1').receive({ payload: 'stop' });
    await until(() => f.sim.world.counts.get('api.command.stopEngine') === 1, 'the stop command');
    await f.vehicleAnswers(() => o.out.length === 3, 'the stop result');
    expect(o.out[2].payload).to.include({ action: 'remote-stop', status: 'success' });
    expect((o.out[2].payload as { engine?: { running: boolean } }).engine?.running).to.equal(false);
    expect(f.lastStatus('r1')?.text).to.equal('engine off');
    // The countdown is gone with the engine.
    await f.clock.tickAsync(2 * MIN);
    expect(f.lastStatus('r1')?.text).to.equal('engine off');
    // Every step, and the status reads that gave the fresh engine state, each with its own record.
    expect(o.audit.map((r) => `${r.action}:${r.outcome}`)).to.deep.equal(['remote-start:pending-confirmation', 'remote-start:ok', 'status.read:ok', 'remote-stop:ok', 'status.read:ok']);
  });

  it('reports a start the vehicle refuses (being driven) as failed, and "go" in msg.payload as an error naming start and stop', async () => {
    const scopes = ['command:remote-start'];
    await f.load([accountNode(f.sim.url, scopes), ...vehicleNode('ford-remote-start', 'r1', { vehicleId: truck.id, action: 'msg', confirm: false })]);
    await f.authorize(scopes);
    const o = f.of('r1');

    helper.getNode('r1').receive({ payload: 'go' });
    await f.errorsReach('r1', 1);
    expect(String(f.errors('r1')[0])).to.match(/msg.payload must be "start" or "stop"; got "go"/);

    f.sim.world.fleet.patch(truck.id, { driving: true, speedKph: 50 });
    helper.getNode('r1').receive({ payload: 'start' });
    await until(() => f.sim.world.counts.get('api.command.startEngine') === 1, 'the start command');
    await f.vehicleAnswers(() => o.out.length === 1, 'the failed start');
    expect(o.out[0].payload).to.include({ action: 'remote-start', status: 'failed', reason: 'vehicle is being driven' });
    expect(o.audit.at(-1)).to.include({ action: 'remote-start', outcome: 'failed' });
  });

  it('refuses remote start without its scope, with zero requests', async () => {
    await f.load([accountNode(f.sim.url, ['read:status', 'command:lock']), ...vehicleNode('ford-remote-start', 'r1', { vehicleId: truck.id, action: 'start', confirm: true })]);
    await f.authorize(['read:status', 'command:lock']);
    f.sim.world.counts.reset();
    expect(f.lastStatus('r1')?.text).to.equal('command:remote-start not granted');
    helper.getNode('r1').receive({});
    await f.errorsReach('r1', 1);
    // Refused before a confirmation is even asked for.
    expect(f.of('r1').out).to.have.length(0);
    expect(f.of('r1').audit.at(-1)).to.include({ action: 'remote-start', outcome: 'denied' });
    expect(f.sim.world.counts.get('api.total')).to.equal(0);
  });

  it('reports a step-up challenge from the API plainly: owner verification needed, audit denied', async () => {
    const scopes = ['command:remote-start'];
    await f.load([accountNode(f.sim.url, scopes), ...vehicleNode('ford-remote-start', 'r1', { vehicleId: truck.id, action: 'start', confirm: false })]);
    await f.authorize(scopes);
    f.sim.world.faults.stepUpMaxAgeSeconds = 60;
    f.sim.world.clock.advance(5 * MIN);
    helper.getNode('r1').receive({});
    await f.errorsReach('r1', 1);
    expect(String(f.errors('r1')[0])).to.match(/verify again.*re-authorize the ford-account/);
    expect(f.lastStatus('r1')).to.deep.equal({ fill: 'red', shape: 'ring', text: 'owner verification needed' });
    expect(f.of('r1').audit.at(-1)).to.include({ action: 'remote-start', outcome: 'denied', httpStatus: 401 });
    expect(f.sim.world.fleet.get(truck.id)?.state.remoteStartUntil ?? null).to.equal(null);

    // Authorize again: the kit asks the provider for a fresh sign-in, and the command goes through.
    const start = await helper.request().post('/ford-connect/accounts/acc/authorize').send({}).expect(200);
    expect(new URL(start.body.url as string).searchParams.get('max_age')).to.equal('0');
    const redirect = new URL(await consentAt(start.body.url as string, { tick: scopes }));
    await helper.request().get(`/ford-connect/auth/callback${redirect.search}`).expect(200);
    f.sim.world.counts.reset();
    helper.getNode('r1').receive({});
    await until(() => f.sim.world.counts.get('api.command.startEngine') === 1, 'the start after a fresh sign-in');
    await f.vehicleAnswers(() => f.of('r1').out.length === 1, 'the start result');
    expect(f.of('r1').out[0].payload).to.include({ action: 'remote-start', status: 'success' });
    // The flag is spent: the next authorization is an ordinary one.
    const again = await helper.request().post('/ford-connect/accounts/acc/authorize').send({}).expect(200);
    expect(new URL(again.body.url as string).searchParams.get('max_age')).to.equal(null);
  });

  it('signals with horn and lights on any message, and refuses on an account that is not authorized', async () => {
    await f.load([
      accountNode(f.sim.url, ['command:horn-lights']),
      ...vehicleNode('ford-horn-lights', 'h1', { vehicleId: truck.id }),
      ...vehicleNode('ford-horn-lights', 'h2', { vehicleId: truck.id, account: 'acc2' }),
      { id: 'acc2', type: 'ford-account', name: 'Second', preset: 'simulator', apiUrl: f.sim.url, grant: 'authorization_code', redirectUri: 'http://127.0.0.1:1880/ford-connect/auth/callback', scopes: ['read:status'] },
    ], { acc: { clientId: 'demo-client', clientSecret: 'demo-secret' }, acc2: { clientId: 'demo-client', clientSecret: 'demo-secret' } });
    await f.authorize(['command:horn-lights']);
    const o = f.of('h1');
    helper.getNode('h1').receive({ payload: { anything: 'goes' } });
    await until(() => f.sim.world.counts.get('api.command.signal') === 1, 'the signal');
    await f.vehicleAnswers(() => o.out.length === 1, 'the signal result');
    expect(o.out[0].payload).to.include({ action: 'horn-lights', vehicle: truck.id, status: 'success' });
    expect(o.audit.at(-1)).to.include({ action: 'horn-lights', scope: 'command:horn-lights', outcome: 'ok' });
    expect(f.sim.world.fleet.get(truck.id)?.state.lastSignalAt).to.be.a('number');

    f.sim.world.counts.reset();
    helper.getNode('h2').receive({});
    await f.errorsReach('h2', 1);
    expect(f.of('h2').audit.at(-1)).to.include({ action: 'horn-lights', outcome: 'denied' });
    expect(f.sim.world.counts.get('api.total')).to.equal(0);
  });
});
