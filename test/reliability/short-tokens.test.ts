import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import type { AuditRecord } from '../../src/lib/audit';
import { faultSuite, measured } from '../helpers/fault-flow';
import { accountNode, until, vehicleNode } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const SCOPES = ['read:status', 'read:location', 'command:lock'];
/** The token manager refreshes a tenth of a token's lifetime before expiry, at most 60 s (token-manager.ts). */
const marginSeconds = (lifetime: number): number => Math.min(60, lifetime / 10);

/**
 * An hour of polling and commands (fake time, the simulator's clock moved
 * with it) against access tokens that live 2 s, and 120 s: no API call may
 * ever meet an expired token (the simulator counts every 401 refusing one),
 * refreshes follow the token lifetime (less the manager's margin), one
 * refresh serves every call waiting for it, and nothing fails.
 */
describe('reliability: short-lived access tokens over a long run', function () {
  const { f, truck } = faultSuite({ startEach: false });

  let accountRecords: AuditRecord[] = [];

  async function flow(accessTokenSeconds: number): Promise<void> {
    await f.start({ accessTokenSeconds });
    Object.assign(truck, f.ownedVehicles()[0]);
    await f.load([
      accountNode(f.sim.url, SCOPES),
      ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' }),
      ...vehicleNode('ford-location', 'l1', { vehicleId: truck.id, optIn: true, interval: 30, precision: 0, output: 'always' }),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'msg', confirm: false, timeout: 60 }),
    ]);
    accountRecords = [];
    f.account.on('audit', (r: AuditRecord) => accountRecords.push(r));
    await f.authorize(SCOPES);
    f.sim.world.counts.reset();
  }

  /** An hour: both clocks on, a lock or unlock every 10 minutes. */
  async function anHour(): Promise<{ commands: number }> {
    let commands = 0;
    for (let t = 0; t < HOUR; t += 10 * MIN) {
      helper.getNode('k1').receive({ payload: commands % 2 === 0 ? 'unlock' : 'lock' });
      commands++;
      await f.advance(10 * MIN);
    }
    await until(() => f.of('k1').out.length === commands, 'every command result');
    return { commands };
  }

  function noFailures(): void {
    for (const id of ['s1', 'l1', 'k1']) {
      expect(f.errors(id), `${id} errors`).to.deep.equal([]);
      expect(f.of(id).audit.filter((r) => r.outcome !== 'ok').map((r) => `${r.action} ${r.outcome}: ${r.detail}`), `${id} audit`).to.deep.equal([]);
    }
    for (const out of f.of('k1').out) expect(out.payload, 'command result').to.include({ status: 'success' });
    expect(accountRecords.filter((r) => r.outcome !== 'ok'), 'account records').to.deep.equal([]);
    expect(f.account.state).to.equal('authorized');
  }

  it('2 s tokens: an hour with zero expired-token 401s; calls at the same moment share one refresh, and no call refreshes twice', async () => {
    await flow(2);
    // The first poll uses the token the authorization gave; by the second it is dead, and status and location,
    // leaving together, wait for one refresh.
    await f.advance(0);
    await until(() => f.of('s1').out.length === 1 && f.of('l1').out.length === 1, 'the first poll');
    expect([f.count('api.total'), f.count('oauth.token.refresh_token')], 'calls, refreshes').to.deep.equal([2, 0]);
    await f.advance(30 * SEC);
    await until(() => f.of('s1').out.length === 2 && f.of('l1').out.length === 2, 'the second poll');
    expect([f.count('api.total'), f.count('oauth.token.refresh_token')], 'calls, refreshes').to.deep.equal([4, 1]);

    const { commands } = await anHour();
    const refreshes = f.count('oauth.token.refresh_token');
    const calls = f.count('api.total');
    const polls = f.count('api.vehicle.info') + f.count('api.vehicle.location');
    const follow = f.count('api.command.status');
    measured('2 s tokens, 1 h: API calls, refreshes, status+location calls, command-status polls, 401s', [calls, refreshes, polls, follow, f.answers('api.401')]);

    expect(f.answers('api.401.token-expired'), 'calls refused for an expired token').to.equal(0);
    expect(f.answers('api.401'), 'any 401').to.equal(0);
    expect(f.answers('api.200') + f.answers('api.202'), 'every call answered 2xx').to.equal(calls);
    noFailures();

    // Every 30 s per kind (the read after each command moves the status schedule, so the kinds drift apart).
    expect(f.count('api.vehicle.location'), 'location polls').to.be.within(120, 122);
    expect(f.count('api.vehicle.info') - commands, 'status polls besides the read after each command').to.be.within(120, 122);
    // A 2 s token is dead by the next poll: every call moment needs a refresh, none needs two.
    expect(refreshes, 'never more refreshes than calls').to.be.at.most(calls);
    // Between polls a token is only refreshed for the calls that follow a command, never faster than it expires.
    expect(refreshes, 'at most run time / (lifetime − margin)').to.be.at.most(HOUR / ((2 - marginSeconds(2)) * SEC));
    expect(refreshes, 'one per poll at most, and a few per command followed (about 4 s each)').to.be.at.most(polls + commands * 4);
    expect(refreshes, 'at least one per poll: the token is always expired by then').to.be.at.least(polls / 2);
  });

  it('120 s tokens: an hour with zero expired-token 401s, and refreshes ≈ run time / lifetime = 30', async () => {
    await flow(120);
    await anHour();
    const refreshes = f.count('oauth.token.refresh_token');
    const calls = f.count('api.total');
    measured('120 s tokens, 1 h: API calls, refreshes, 401s', [calls, refreshes, f.answers('api.401')]);

    expect(f.answers('api.401.token-expired'), 'calls refused for an expired token').to.equal(0);
    expect(f.answers('api.401')).to.equal(0);
    noFailures();
    // A token is used until 12 s before it expires; polls come every 30 s, so each token serves until the poll at 120 s.
    const expected = HOUR / (Math.ceil((120 - marginSeconds(120)) / 30) * 30 * SEC);
    expect(refreshes, `refreshes ≈ ${expected}`).to.be.within(expected - 2, expected + 2);
    expect(accountRecords.filter((r) => r.action === 'token.refresh' && r.outcome === 'ok').length, 'one token.refresh audit record each').to.equal(refreshes);
  });

  it('a token the provider expires early (server-side) costs one 401, one refresh and one retry — the call still succeeds', async () => {
    await flow(1200);
    await f.advance(0);
    await until(() => f.of('s1').out.length === 1 && f.of('l1').out.length === 1, 'the first poll');
    f.sim.world.counts.reset();
    expect(f.sim.world.store.expireAllAccessTokens()).to.be.greaterThan(0);
    await f.advance(30 * SEC);
    await until(() => f.of('s1').out.length === 2 && f.of('l1').out.length === 2, 'the next poll');
    // Status and location were both refused with the same dead token: they share one refresh.
    expect(f.answers('api.401.token-expired')).to.equal(2);
    expect(f.count('oauth.token.refresh_token')).to.equal(1);
    expect(f.count('api.total'), 'two refused, two retried').to.equal(4);
    noFailures();
  });
});
