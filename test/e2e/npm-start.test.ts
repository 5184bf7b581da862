import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { freePort } from '../helpers/ports';

const root = path.resolve(__dirname, '..', '..', '..');

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('npm start (e2e)', function () {
  this.timeout(60_000);
  let child: ChildProcess;
  let output = '';
  let userDir: string;
  let port: number;
  let simPort: number;

  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-start-'));
    port = await freePort();
    simPort = await freePort();
    child = spawn(process.execPath, [path.join(root, 'dist', 'cli', 'start.js'), '--port', String(port), '--sim-port', String(simPort), '--mqtt-port', String(await freePort()), '--user-dir', userDir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  });

  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('starts the simulator and prints its URLs and demo client', async () => {
    await waitFor(async () => ((await fetch(`http://127.0.0.1:${simPort}/.well-known/oauth-authorization-server`)).ok ? true : undefined), 'the simulator');
    expect(output).to.include(`http://127.0.0.1:${simPort}/owner/apps`);
    expect(output).to.include('client id demo-client');
  });

  it('starts Node-RED on 127.0.0.1 with the kit loaded from this checkout', async () => {
    const nodes = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/nodes`, { headers: { Accept: 'application/json' } });
      if (!res.ok) return undefined;
      const list = (await res.json()) as { module: string; types: string[]; enabled: boolean }[];
      const kit = list.filter((n) => n.module === 'node-red-contrib-ford-connect');
      return kit.length > 0 ? kit : undefined;
    }, 'Node-RED with the kit');
    expect(nodes.flatMap((n) => n.types)).to.include.members(['ford-account', 'ford-status', 'ford-location']);
    expect(nodes.every((n) => n.enabled)).to.equal(true);
    // Printed once the demo is set up, with the flows deployed.
    await waitFor(async () => (output.includes(`Node-RED editor: http://127.0.0.1:${port}/`) ? true : undefined), 'the editor URL');
  });

  it('deploys the example flows with the demo account authorized, and they read the vehicle', async () => {
    await waitFor(async () => (output.includes('Demo account connected') ? true : undefined), 'the demo account');
    const flows = (await (await fetch(`http://127.0.0.1:${port}/flows`, { headers: { Accept: 'application/json' } })).json()) as { type: string; label?: string }[];
    const tabs = flows.filter((n) => n.type === 'tab').map((n) => n.label);
    expect(tabs.length).to.be.at.least(5);
    for (const type of ['ford-account', 'ford-status', 'ford-location', 'ford-lock', 'ford-remote-start', 'ford-horn-lights', 'ford-charge']) expect(flows.map((n) => n.type), type).to.include(type);
    const account = (await (await fetch(`http://127.0.0.1:${port}/ford-connect/accounts/ford-demo-account`)).json()) as { state: string; effectiveScopes: string[] };
    expect(account.state).to.equal('authorized');
    expect(account.effectiveScopes).to.include.members(['read:status', 'read:location', 'command:lock']);
    // The status example polls at once: a status read and its audit record.
    const audit = await waitFor(async () => {
      const { records } = (await (await fetch(`http://127.0.0.1:${port}/ford-connect/accounts/ford-demo-account/audit`)).json()) as { records: { action: string; outcome: string; nodeType: string }[] };
      return records.some((r) => r.action === 'status.read' && r.outcome === 'ok' && r.nodeType === 'ford-status') ? records : undefined;
    }, 'a status read in the audit log');
    expect(audit.length).to.be.greaterThan(0);
    expect(output).to.not.match(/demo-secret.*Bearer|access_token=|setting up the demo failed/);
  });

  it('stops both on Ctrl-C', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).to.equal(0);
    const simDown = await fetch(`http://127.0.0.1:${simPort}/`).then(
      () => false,
      () => true,
    );
    expect(simDown).to.equal(true);
  });

  it('reuses the first start\'s state on a second start: the same flows, connected again', async () => {
    const before = fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8');
    let second = '';
    const again = spawn(process.execPath, [path.join(root, 'dist', 'cli', 'start.js'), '--port', String(port), '--sim-port', String(simPort), '--mqtt-port', String(await freePort()), '--user-dir', userDir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    again.stdout?.on('data', (d: Buffer) => (second += d.toString()));
    again.stderr?.on('data', (d: Buffer) => (second += d.toString()));
    try {
      await waitFor(async () => (second.includes('Demo account connected') ? true : undefined), 'the demo account on the second start');
      expect(second).to.not.include('Example flows deployed');
      expect(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8')).to.equal(before);
      const account = (await (await fetch(`http://127.0.0.1:${port}/ford-connect/accounts/ford-demo-account`)).json()) as { state: string };
      expect(account.state).to.equal('authorized');
    } finally {
      const exited = new Promise((resolve) => again.once('exit', resolve));
      again.kill('SIGINT');
      await exited;
    }
  });

  it('switches the demo account to FordConnect Query with --api query: the same car reads, and the account offers no commands', async () => {
    let third = '';
    const query = spawn(process.execPath, [path.join(root, 'dist', 'cli', 'start.js'), '--port', String(port), '--sim-port', String(simPort), '--mqtt-port', String(await freePort()), '--user-dir', userDir, '--api', 'query'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    query.stdout?.on('data', (d: Buffer) => (third += d.toString()));
    query.stderr?.on('data', (d: Buffer) => (third += d.toString()));
    try {
      await waitFor(async () => (third.includes('Demo account connected') ? true : undefined), 'the demo account on FordConnect Query');
      expect(third).to.include('FordConnect Query (read-only');
      const account = (await (await fetch(`http://127.0.0.1:${port}/ford-connect/accounts/ford-demo-account`)).json()) as { state: string; commands: boolean };
      expect(account).to.include({ state: 'authorized', commands: false });
      const read = await waitFor(async () => {
        const { records } = (await (await fetch(`http://127.0.0.1:${port}/ford-connect/accounts/ford-demo-account/audit`)).json()) as { records: { action: string; outcome: string; nodeType: string }[] };
        return records.find((r) => r.action === 'status.read' && r.outcome === 'ok' && r.nodeType === 'ford-status');
      }, 'a status read over FordConnect Query');
      expect(read).to.not.equal(undefined);
    } finally {
      const exited = new Promise((resolve) => query.once('exit', resolve));
      query.kill('SIGINT');
      await exited;
    }
  });
});
