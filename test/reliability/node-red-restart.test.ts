import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import type { AuditRecord } from '../../src/lib/audit';
import type { StoredTokens } from '../../src/lib/oauth/token-store';
import { faultSuite, measured } from '../helpers/fault-flow';
import { accountNode, until, vehicleNode } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

const SEC = 1000;
const MIN = 60 * SEC;
const SCOPES = ['read:status', 'command:lock', 'command:remote-start'];

/**
 * Node-RED restarted (or the flow redeployed) in the middle of polling,
 * token rotation and commands, on the same user dir: the tokens (rotated
 * meanwhile), the granted scopes and the audit file survive; every audit
 * record a node emitted is in the file exactly once; no command runs twice.
 */
describe('reliability: Node-RED restarted and redeployed mid-run', function () {
  const { f, truck } = faultSuite({ startEach: false });
  let auditFile: string;

  async function start(accessTokenSeconds: number): Promise<void> {
    await f.start({ accessTokenSeconds });
    Object.assign(truck, f.ownedVehicles()[0]);
    auditFile = path.join(f.userDir, 'audit', 'ford-audit.jsonl');
    await f.load([
      accountNode(f.sim.url, SCOPES, { auditFile }),
      ...vehicleNode('ford-status', 's1', { vehicleId: truck.id, interval: 30, output: 'always' }),
      ...vehicleNode('ford-lock', 'k1', { vehicleId: truck.id, action: 'msg', confirm: false, timeout: 60 }),
      ...vehicleNode('ford-remote-start', 'r1', { vehicleId: truck.id, action: 'start', confirm: true, confirmWindow: 600, timeout: 60 }),
    ]);
    await f.authorize(SCOPES);
    f.sim.world.counts.reset();
    await f.advance(0);
    await until(() => f.of('s1').out.length === 1, 'the first poll');
  }

  function storedTokens(): StoredTokens {
    return JSON.parse(fs.readFileSync(path.join(f.userDir, 'ford-connect', 'tokens-acc.json'), 'utf8')) as StoredTokens;
  }

  async function lock(payload: 'lock' | 'unlock'): Promise<void> {
    const n = f.of('k1').out.length;
    helper.getNode('k1').receive({ payload });
    await f.advanceUntil(() => f.of('k1').out.length === n + 1, 500, 20 * SEC);
    expect(f.of('k1').out.at(-1)?.payload).to.include({ action: payload, status: 'success' });
  }

  /** The audit file, flushed by every account this test built, one parsed record per line. */
  async function fileRecords(): Promise<AuditRecord[]> {
    for (const account of f.accounts) await account.flushAudit();
    return fs
      .readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditRecord);
  }

  /** Records as comparable lines, sorted: a multiset. */
  const lines = (records: AuditRecord[]): string[] => records.map((r) => JSON.stringify(r)).sort();

  function replayAlerts(): number {
    return f.sim.world.alerts.all().filter((a) => a.kind === 'refresh-token-reuse').length;
  }

  it('a restart: rotated tokens, granted scopes and the audit file survive; every record is in the file once; a confirmation from before is not honoured; no command repeats', async () => {
    // 90 s tokens, refreshed 9 s early: a rotation every 81 s or so.
    await start(90);
    await f.advance(MIN);
    await lock('lock');
    helper.getNode('r1').receive({});
    await until(() => f.of('r1').out.length === 1, 'the pending confirmation');
    const pending = f.of('r1').out[0] as { confirm: { id: string } };
    await f.advance(3 * MIN);
    const granted = f.account.grantedScopes();
    const tokens = storedTokens();
    const refreshes = f.count('oauth.token.refresh_token');
    expect(refreshes, 'the refresh token rotated before the restart').to.be.at.least(2);
    expect(f.account.tokens.currentTokens()?.refreshToken, 'the file holds the current refresh token').to.equal(tokens.refreshToken);

    await f.restartNodeRed();
    expect(f.account.state, 'no re-authorization after a restart').to.equal('authorized');
    expect(f.account.grantedScopes()).to.deep.equal(granted);
    expect(f.account.tokens.currentTokens()?.refreshToken).to.equal(tokens.refreshToken);

    // Polling resumes at once on its own, and the next refresh (with the stored refresh token) works.
    await f.advance(0);
    await until(() => f.of('s1').out.length === 1, 'the first poll after the restart');
    await f.advance(3 * MIN);
    expect(f.count('oauth.token.refresh_token'), 'refreshes after the restart').to.be.greaterThan(refreshes);
    expect(replayAlerts(), 'no refresh token was used twice').to.equal(0);
    expect(f.account.state).to.equal('authorized');
    expect(f.lastStatus('s1')).to.include({ fill: 'green' });

    // The confirmation asked for before the restart is gone with it: refused, nothing sent.
    helper.getNode('r1').receive({ confirm: pending.confirm.id });
    await until(() => f.errors('r1').length === 1 && f.of('r1').audit.length === 1, 'the refused confirmation');
    expect(String(f.errors('r1')[0])).to.match(/confirmation refused/);
    await lock('unlock');
    expect([f.count('api.command.lock'), f.count('api.command.unlock'), f.count('api.command.startEngine')], 'lock, unlock, remote start POSTs').to.deep.equal([1, 1, 0]);

    // The audit file: exactly what the two accounts recorded, each record once; every node record among them.
    const file = await fileRecords();
    const recorded = f.accounts.flatMap((a) => a.auditRing.list().reverse());
    measured('restart: audit records in the file, emitted by nodes, token refreshes', [file.length, f.everyNodeAudit().length, file.filter((r) => r.action === 'token.refresh').length]);
    expect(recorded.length, 'fewer records than the ring keeps').to.be.below(200);
    expect(lines(file), 'file = what the accounts recorded').to.deep.equal(lines(recorded));
    const fileSet = lines(file);
    const nodeLines = lines(f.everyNodeAudit());
    for (const line of nodeLines) expect(fileSet, 'a node record in the file').to.include(line);
    expect(file.filter((r) => r.nodeType !== 'ford-account'), 'node records in the file = records on the nodes\' outputs').to.have.length(nodeLines.length);
    expect(new Set(file.map((r) => JSON.stringify(r))).size, 'no line twice').to.equal(file.length);
    expect(file.filter((r) => r.action === 'lock' && r.outcome === 'ok')).to.have.length(1);
    expect(file.filter((r) => r.action === 'unlock' && r.outcome === 'ok')).to.have.length(1);
    expect(file.filter((r) => r.action === 'remote-start').map((r) => r.outcome)).to.deep.equal(['pending-confirmation', 'denied']);
  });

  /** A lock accepted by the API and being followed when the flow is redeployed. */
  async function redeployMidLock(): Promise<void> {
    helper.getNode('k1').receive({ payload: 'lock' });
    await until(() => f.count('api.command.lock') === 1, 'the lock POST');
    await f.settle();
    await f.advance(500);
    await f.redeploy();
    expect(f.accounts).to.have.length(2);
    // The old nodes' lock goes on being followed (same process, same clock) until the vehicle answers.
    await f.advance(20 * SEC);
  }

  it('a redeploy while a lock is being followed (Ford-like 1200 s tokens): the lock finishes once and is audited once; the new nodes poll on, authorized', async () => {
    await start(1200);
    await redeployMidLock();
    const [oldAccount, newAccount] = f.accounts;
    const lockRecords = oldAccount.auditRing.list().filter((r) => r.action === 'lock');
    expect(lockRecords.map((r) => r.outcome), 'the old node finished its lock').to.deep.equal(['ok']);
    // Its result had nowhere to go: the node that asked is gone. The record is kept all the same.
    measured('redeploy mid-lock: results delivered on the new flow', f.ever('k1').out.length);
    await f.advance(3 * MIN);
    expect(newAccount.state).to.equal('authorized');
    expect(f.errors('s1')).to.deep.equal([]);
    expect(f.of('s1').out.length, 'polls after the redeploy').to.be.at.least(6);
    expect(f.count('api.command.lock'), 'lock POSTs').to.equal(1);
    expect(replayAlerts()).to.equal(0);

    const file = await fileRecords();
    expect(lines(file), 'file = what both accounts recorded').to.deep.equal(lines(f.accounts.flatMap((a) => a.auditRing.list().reverse())));
    expect(file.filter((r) => r.action === 'lock').map((r) => r.outcome), 'the lock in the file, once').to.deep.equal(['ok']);
    expect(new Set(file.map((r) => JSON.stringify(r))).size).to.equal(file.length);
  });

  it('a redeploy while a lock is being followed, with 2 s tokens rotating on every call: no refresh token is used twice, the account stays authorized', async () => {
    await start(2);
    await redeployMidLock();
    await f.advance(3 * MIN);
    expect(replayAlerts(), 'no refresh token was used twice').to.equal(0);
    expect(f.accounts[1].state, 'the redeployed account is still authorized').to.equal('authorized');
    expect(f.accounts[0].auditRing.list().filter((r) => r.action === 'lock').map((r) => r.outcome)).to.deep.equal(['ok']);
    expect(f.errors('s1')).to.deep.equal([]);
  });
});
