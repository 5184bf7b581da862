import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { describeLeaks, findLeaks, fixedSecrets, redactKnown, tokenShapedStrings } from '../helpers/leak-scan';
import { PROJECT_ROOT } from '../helpers/node-red';

/**
 * The whole mocha suite once more, in a child process with the repository's
 * own configuration (the security suites stand aside there: FORD_SECURITY_CHILD),
 * its stdout and stderr scanned for the simulator's fixed secrets (the demo
 * clients' secrets, the seed fleet's VINs for every seed the suites use) and
 * for anything shaped like a token.
 *
 * `npm test` itself scans its whole output in-process (the root hook
 * test/helpers/suite-scan.ts: stdout / stderr, Node-RED's log, status, error,
 * warn and audit records of the kit's nodes), so this is no longer the main
 * check. It stays as the out-of-process complement: it sees the raw bytes the
 * process wrote, including what the in-process hook cannot, i.e. writes that
 * bypass process.stdout.write (fs.writeSync on fd 1 / 2, native code, a child
 * process with inherited stdio) and what mocha prints after the root
 * afterAll (failure messages and diffs, the summary), and it runs the
 * in-process hook too. It takes as long as the suite itself (about 2 minutes),
 * so it is not part of `npm test`: run it with `npm run check:suite-output`.
 */
describe('security: the output of the whole test suite (child process)', function () {
  this.timeout(600_000);
  let output = '';
  let exitCode: number | null = null;
  let seconds = 0;

  before(async function () {
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'), '--reporter', 'dot'], {
        cwd: PROJECT_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FORD_SECURITY_CHILD: '1', FORD_SECURITY_FULL_SUITE: '' },
      });
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => {
        exitCode = code;
        resolve();
      });
    });
    seconds = Math.round((Date.now() - started) / 1000);
  });

  it('holds no demo client secret, no VIN of the seed fleet, and nothing shaped like a token', function () {
    const secrets = fixedSecrets();
    const leaks = findLeaks([{ source: 'stdio', where: 'the whole suite', strings: [output] }], secrets);
    expect(leaks.length, `in the suite's output:\n${describeLeaks(leaks)}`).to.equal(0);
    const shaped = tokenShapedStrings(output);
    expect(shaped.length, `token-shaped strings in the suite's output (${shaped.length}), e.g. ${shaped.slice(0, 3).map((t) => `${t.slice(0, 6)}… (${t.length})`).join(', ')}`).to.equal(0);
    // It really ran: mocha's summary is there (a failing suite elsewhere is that suite's news, reported with it).
    expect(redactKnown(output, secrets), `exit ${exitCode} after ${seconds} s`).to.match(/\d+ passing/);
  });
});
