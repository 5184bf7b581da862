import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { freePort } from '../helpers/ports';
import { prepareUserDir } from '../../src/cli/start';

const root = path.resolve(__dirname, '..', '..', '..');

/** The kit's admin endpoints in a real Node-RED with adminAuth on: permissions are enforced, the OAuth callback stays reachable. */
describe('ford-account admin endpoints with adminAuth (e2e)', function () {
  this.timeout(60_000);
  let child: ChildProcess;
  let userDir: string;
  let base: string;
  let log = '';

  before(async () => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-adminauth-'));
    const port = await freePort();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bcrypt = require('bcryptjs') as { hashSync(p: string, rounds: number): string };
    const hash = bcrypt.hashSync('secret-pass', 4);
    fs.writeFileSync(
      path.join(userDir, 'settings.js'),
      `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', credentialSecret: 'test-secret',
        logging: { console: { level: 'warn' } },
        adminAuth: { type: 'credentials', users: [
          { username: 'admin', password: ${JSON.stringify(hash)}, permissions: '*' },
          { username: 'reader', password: ${JSON.stringify(hash)}, permissions: 'read' } ] } };\n`,
    );
    prepareUserDir(userDir, port, root);
    child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    base = `http://127.0.0.1:${port}`;
    const until = Date.now() + 30_000;
    for (;;) {
      // Up once the kit's routes exist (401 without a token, never 404).
      const up = await fetch(`${base}/ford-connect/accounts/probe`).then((r) => r.status === 401, () => false);
      if (up) break;
      if (Date.now() > until) throw new Error(`Node-RED did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(() => {
    child.kill('SIGKILL');
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function tokenFor(username: string, scope: string): Promise<string> {
    const res = await fetch(`${base}/auth/token`, { method: 'POST', body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password: 'secret-pass' }) });
    expect(res.status).to.equal(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  const dialog = { preset: 'simulator', apiUrl: 'http://127.0.0.1:8370', grant: 'authorization_code', redirectUri: 'http://127.0.0.1:1880/ford-connect/auth/callback', scopes: ['read:status'], clientId: 'demo-client', clientSecret: 'demo-secret' };

  function call(method: string, route: string, token?: string): Promise<Response> {
    return fetch(`${base}/ford-connect${route}`, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: method === 'POST' ? JSON.stringify(dialog) : undefined,
    });
  }

  it('refuses every editor endpoint to an anonymous caller', async () => {
    for (const [method, route] of [
      ['POST', '/accounts/a1/authorize'],
      ['POST', '/accounts/a1/paste'],
      ['POST', '/accounts/a1/disconnect'],
      ['GET', '/accounts/a1'],
      ['GET', '/accounts/a1/vehicles'],
      ['GET', '/accounts/a1/audit'],
    ]) {
      expect((await call(method, route)).status, `${method} ${route}`).to.equal(401);
    }
  });

  it('lets a read-only editor user look, not act', async () => {
    const token = await tokenFor('reader', 'read');
    expect((await call('GET', '/accounts/a1', token)).status).to.equal(200);
    expect((await call('POST', '/accounts/a1/authorize', token)).status).to.equal(401);
    expect((await call('POST', '/accounts/a1/disconnect', token)).status).to.equal(401);
  });

  it('lets a full editor user start an authorization', async () => {
    const token = await tokenFor('admin', '*');
    const res = await call('POST', '/accounts/a1/authorize', token);
    expect(res.status).to.equal(200);
    const url = new URL(((await res.json()) as { url: string }).url);
    expect(url.searchParams.get('code_challenge_method')).to.equal('S256');
  });

  it('keeps the OAuth callback reachable for the browser, guarded by state', async () => {
    const res = await fetch(`${base}/ford-connect/auth/callback?code=abc&state=0123456789abcdef`);
    expect(res.status).to.equal(400);
    expect(await res.text()).to.match(/unknown, already used or expired/);
  });
});
