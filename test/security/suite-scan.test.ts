import { expect } from 'chai';
import helper from 'node-red-node-test-helper';
import { fixedSecrets } from '../helpers/leak-scan';
import { suiteScan, SuiteScanner } from '../helpers/suite-scan';
import { NODE_MODULES } from '../helpers/vehicle-flow';

helper.init(require.resolve('node-red'));

/* eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED's runtime internals are CommonJS, without types */
const NODE_PROTOTYPE = require('@node-red/runtime/lib/nodes/Node').prototype as Record<string, unknown>;

/**
 * The whole-suite output scan (test/helpers/suite-scan.ts, a root hook of
 * `npm test`): that it is in place under the test helper's spies, and that
 * its scanner finds what it must (on a scanner of its own: a secret planted
 * in the suite's capture would fail the run, as it should).
 */
describe('security: the scan of the whole suite\'s output (root hook)', function () {
  it('captures from the start of the run, and sits under the test helper\'s spies on Node.prototype while a flow runs', async function () {
    if (!suiteScan.capturing) this.skip(); // mocha --no-config: the root hook is not loaded
    for (const name of ['status', 'error', 'warn', 'send']) expect(NODE_PROTOTYPE[name], `Node.prototype.${name} between tests`).to.equal(suiteScan.hookOf(name));
    expect(suiteScan.displaced(), 'hooks on stdout / stderr / RED.log').to.deep.equal([]);

    await helper.load(NODE_MODULES, [{ id: 's1', type: 'ford-status', name: 'probe', vehicleId: 'x', interval: 0, output: 'always', wires: [['o'], ['a']] }, { id: 'o', type: 'helper' }, { id: 'a', type: 'helper' }]);
    try {
      // The helper wraps what it found (this hook) in its spies, for as long as the flow runs.
      expect(NODE_PROTOTYPE.status, 'the helper\'s spy on top').to.not.equal(suiteScan.hookOf('status'));
      const before = suiteScan.scanner.scanned.status ?? 0;
      const node = helper.getNode('s1') as unknown as { status(s: unknown): void; send(m: unknown): void };
      node.status({ fill: 'grey', shape: 'ring', text: 'the suite scan sees this' });
      expect(suiteScan.scanner.scanned.status ?? 0, 'status texts of a ford node scanned through the spy').to.be.greaterThan(before);
      const audits = suiteScan.scanner.scanned.audit ?? 0;
      node.send([null, { topic: 'ford/audit', payload: { action: 'probe', outcome: 'ok', detail: 'the suite scan sees output 2' } }]);
      expect(suiteScan.scanner.scanned.audit ?? 0, 'audit records of a ford node scanned').to.be.greaterThan(audits);
    } finally {
      await helper.unload();
    }
    // Given back: the hook is on top again.
    for (const name of ['status', 'error', 'warn', 'send']) expect(NODE_PROTOTYPE[name], `Node.prototype.${name} after unload`).to.equal(suiteScan.hookOf(name));
  });

  it('finds the client secrets, seed-fleet VINs and vehicle ids, route coordinates and token-shaped strings, and never prints one', () => {
    const fixed = fixedSecrets();
    const secret = [...fixed.credentials.keys()][0];
    const vin = [...fixed.vins][0];
    const id = [...fixed.vehicleIds][0];
    const token = 'Q3xk9Lm2Pz7Rt5Vw8Yb1Nc4Hd6Jf0Gs2Ae3Ui5Oy7Tq';
    const s = new SuiteScanner();
    s.scanText('stdio', 'stdout', `client_id=demo-client&client_secret=${secret}`);
    s.scanValue('error', 'error of ford-lock k1', new Error(`no vehicle ${vin.toLowerCase()}`));
    s.scanValue('status', 'status of ford-status s1', { text: `vehicle ${id} offline` });
    s.scanValue('log', 'log ford-location l1 level 30', { msg: 'at 42.31570, -83.21210', level: 30 });
    s.scanText('stdio', 'stderr', `refresh with ${token} failed`);
    // Cut between two writes: the second is scanned with the end of the first.
    s.scanText('stdio', 'stdout', `…Bearer ${token.slice(0, 20)}${token.slice(20)}`, 8);
    expect(s.hits.map((h) => `${h.kind} ${h.source}`)).to.include.members(['client secret stdio', 'VIN error', 'vehicle id status', 'coordinate log', 'token-shaped string stdio']);
    const report = s.report();
    for (const value of [secret, vin, vin.toLowerCase(), id, token, '42.3157']) expect(report, 'the report masks every find').to.not.include(value);
    expect(report).to.include('«client secret»').and.include('«VIN»').and.include('during "outside any test"');

    // A find is not remembered as clean: the same text elsewhere is reported again.
    const again = new SuiteScanner();
    for (const where of ['status of ford-status s1', 'status of ford-status s1', 'status of ford-lock k1']) again.scanValue('status', where, { text: `vehicle ${id} offline` });
    expect(again.hits.map((h) => h.where)).to.deep.equal(['status of ford-status s1', 'status of ford-lock k1']);

    const clean = new SuiteScanner();
    clean.scanText('stdio', 'stdout', '  ✔ locks the truck (52ms) · ford-lock …0947 locked · 3 field(s) changed · 2f0c1e9a-8b7d-4c3e-9f10-1a2b3c4d5e6f');
    clean.scanValue('status', 'status of ford-location l1', { fill: 'green', shape: 'dot', text: 'near home · 4 min ago' });
    expect(clean.report()).to.equal('');
  });
});
