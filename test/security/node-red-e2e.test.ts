import { spawn, type ChildProcess } from 'node:child_process';
import { createDecipheriv, createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { prepareUserDir } from '../../src/cli/start';
import { TokenStore } from '../../src/lib/oauth/token-store';
import { consentAt } from '../helpers/consent';
import { describeLeaks, findLeaks, secretsOf, type Captured } from '../helpers/leak-scan';
import { PROJECT_ROOT, waitFor } from '../helpers/node-red';
import { freePort } from '../helpers/ports';
import { startRecordingSimulator, type RecordingSimulator } from '../helpers/recording-sim';
import { describeSecurity } from '../helpers/security-suite';

const CREDENTIAL_SECRET = 'security-suite-credential-secret';
const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:1880/ford-connect/auth/callback';
const ALL = ['read:status', 'read:location', 'command:lock', 'command:remote-start', 'command:horn-lights', 'command:charge'];

/** Node-RED's own credential encryption (runtime/lib/nodes/credentials.js): aes-256-ctr under sha256(credentialSecret), IV in the first 32 hex characters. */
function decryptNodeRedCredentials(file: string): Record<string, Record<string, unknown>> {
  const sealed = JSON.parse(fs.readFileSync(file, 'utf8')) as { $: string };
  const key = createHash('sha256').update(CREDENTIAL_SECRET).digest();
  const decipher = createDecipheriv('aes-256-ctr', key, Buffer.from(sealed.$.slice(0, 32), 'hex'));
  return JSON.parse(decipher.update(sealed.$.slice(32), 'base64', 'utf8') + decipher.final('utf8')) as Record<string, Record<string, unknown>>;
}

/**
 * A real Node-RED (child process, the kit from dist/ linked in as npm start
 * does) with adminAuth and a credentialSecret, against a recording simulator
 * in this process: editor permissions are enforced on every kit endpoint,
 * the OAuth callback takes a state once and only its own, and what rests on
 * disk (flows_cred.json, the kit's token file) holds no secret in clear.
 */
describeSecurity('security: a real Node-RED with adminAuth and a credentialSecret (e2e)', function () {
  this.timeout(60_000);
  let sim: RecordingSimulator;
  let child: ChildProcess;
  let userDir: string;
  let base: string;
  let output = '';
  const answers: Captured[] = [];
  const tokens: Record<string, string> = {};

  before(async () => {
    sim = await startRecordingSimulator();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ford-security-e2e-'));
    const port = await freePort();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bcrypt = require('bcryptjs') as { hashSync(p: string, rounds: number): string };
    const hash = JSON.stringify(bcrypt.hashSync(PASSWORD, 4));
    fs.writeFileSync(
      path.join(userDir, 'settings.js'),
      `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', credentialSecret: ${JSON.stringify(CREDENTIAL_SECRET)},
        logging: { console: { level: 'debug', metrics: false, audit: false } }, telemetry: { enabled: false },
        adminAuth: { type: 'credentials', users: [
          { username: 'admin', password: ${hash}, permissions: '*' },
          { username: 'reader', password: ${hash}, permissions: 'read' },
          { username: 'flows-editor', password: ${hash}, permissions: ['flows.read', 'flows.write'] },
          { username: 'nobody', password: ${hash}, permissions: [] } ] } };\n`,
    );
    prepareUserDir(userDir, port, PROJECT_ROOT);
    child = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { cwd: userDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORD_SIM_URL: sim.url } });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    base = `http://127.0.0.1:${port}`;
    await waitFor(async () => ((await fetch(`${base}/ford-connect/accounts/probe`)).status === 401 ? true : undefined), 'Node-RED with the kit', {
      timeoutMs: 30_000,
      detail: () => output,
      fatal: () => (child.exitCode !== null ? `Node-RED exited (${child.exitCode})` : undefined),
    });
    for (const [user, scope] of [['admin', '*'], ['reader', 'read'], ['flows-editor', 'flows.read flows.write'], ['nobody', '']] as const) {
      const res = await fetch(`${base}/auth/token`, { method: 'POST', body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope, username: user, password: PASSWORD }) });
      if (res.status === 200) tokens[user] = ((await res.json()) as { access_token: string }).access_token;
    }
  });

  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await sim?.close();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  async function call(method: string, route: string, token?: string, body?: unknown): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
    const res = await fetch(`${base}${route}`, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
      redirect: 'manual',
    });
    const text = await res.text();
    answers.push({ source: 'admin', where: `${method} ${route.split('?')[0]} → ${res.status}`, strings: [text, JSON.stringify([...res.headers])] });
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // an HTML page
    }
    return { status: res.status, text, json };
  }

  const dialog = { preset: 'simulator', apiUrl: 'http://127.0.0.1:9', grant: 'authorization_code', redirectUri: REDIRECT, scopes: ['read:status'], clientId: 'demo-client', clientSecret: 'demo-secret' };
  const KIT_ROUTES: [string, string, string][] = [
    ['POST', '/ford-connect/accounts/acc/authorize', 'ford-account.write'],
    ['POST', '/ford-connect/accounts/acc/paste', 'ford-account.write'],
    ['POST', '/ford-connect/accounts/acc/disconnect', 'ford-account.write'],
    ['GET', '/ford-connect/accounts/acc', 'ford-account.read'],
    ['GET', '/ford-connect/accounts/acc/vehicles', 'ford-account.read'],
    ['GET', '/ford-connect/accounts/acc/audit', 'ford-account.read'],
  ];

  it('refuses every kit endpoint to editor users without its permission, and to tokens that are not tokens', async () => {
    expect(tokens).to.include.keys(['admin', 'reader', 'flows-editor']);
    for (const [method, route, permission] of KIT_ROUTES) {
      // A user who may edit flows but was given no ford-account permission, and a user with none at all.
      for (const user of ['flows-editor', 'nobody']) {
        if (!tokens[user]) continue;
        expect((await call(method, route, tokens[user], { ...dialog, url: 'x' })).status, `${user} ${method} ${route}`).to.equal(401);
      }
      if (permission.endsWith('.write')) expect((await call(method, route, tokens.reader, { ...dialog, url: 'x' })).status, `reader ${method} ${route}`).to.equal(401);
      for (const forged of ['garbage', 'Bearer', 'a'.repeat(4096), `${tokens.admin}x`, tokens.admin.slice(0, -1)]) {
        expect((await call(method, route, forged, dialog)).status, `forged bearer on ${method} ${route}`).to.equal(401);
      }
    }
    // The reader looks, the admin acts.
    expect((await call('GET', '/ford-connect/accounts/acc', tokens.reader)).status).to.equal(200);
    expect((await call('POST', '/ford-connect/accounts/acc/authorize', tokens.admin, dialog)).status).to.equal(200);
    // A token revoked at Node-RED's own /auth/revoke stops working at once.
    const extra = await fetch(`${base}/auth/token`, { method: 'POST', body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'admin', password: PASSWORD }) });
    const revoked = ((await extra.json()) as { access_token: string }).access_token;
    expect((await call('GET', '/ford-connect/accounts/acc', revoked)).status).to.equal(200);
    expect((await fetch(`${base}/auth/revoke`, { method: 'POST', headers: { Authorization: `Bearer ${revoked}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ token: revoked }) })).status).to.equal(200);
    expect((await call('GET', '/ford-connect/accounts/acc', revoked)).status).to.equal(401);
  });

  it('deploys an account with credentials, authorizes it through the callback, and refuses a replayed or foreign state', async () => {
    const flows = [
      { id: 'tab1', type: 'tab', label: 'security' },
      { id: 'acc', type: 'ford-account', name: 'Secured', preset: 'simulator', apiUrl: sim.url, grant: 'authorization_code', redirectUri: REDIRECT, scopes: ALL, credentials: { clientId: 'demo-client', clientSecret: 'demo-secret' } },
      { id: 's1', type: 'ford-status', z: 'tab1', name: 'status', account: 'acc', vehicleId: sim.world.fleet.ownedBy('owner-1')[0].id, interval: 0, output: 'always', wires: [[], []] },
    ];
    // Deploying is Node-RED's own flows.write; the flows editor may, an anonymous caller may not.
    expect((await fetch(`${base}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flows) })).status).to.equal(401);
    const deployed = await fetch(`${base}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full', Authorization: `Bearer ${tokens.admin}` }, body: JSON.stringify(flows) });
    expect(deployed.status).to.be.oneOf([200, 204]);
    await waitFor(async () => ((await call('GET', '/ford-connect/accounts/acc', tokens.admin)).json.deployed ? true : undefined), 'the account to start', { timeoutMs: 10_000 });

    const started = await call('POST', '/ford-connect/accounts/acc/authorize', tokens.admin, {});
    const redirect = new URL(await consentAt(started.json.url as string, { tick: ALL }));
    const tokenRequests = () => sim.exchanges.filter((x) => x.path === '/oauth2/v2.0/token').length;
    const before = tokenRequests();
    const ok = await call('GET', `/ford-connect/auth/callback${redirect.search}`);
    expect(ok.status, ok.text).to.equal(200);
    expect(tokenRequests()).to.equal(before + 1);

    // The same callback again: refused, and the code is not sent to the provider a second time.
    const replay = await call('GET', `/ford-connect/auth/callback${redirect.search}`);
    expect(replay.status).to.equal(400);
    expect(replay.text).to.match(/unknown, already used or expired/);
    // A state this Node-RED never issued, with the same code or none.
    for (const search of [`?code=${redirect.searchParams.get('code')}&state=0123456789abcdef`, '?state=', `?code=x&state=${'f'.repeat(16)}&state=${redirect.searchParams.get('state')}`, `?code=x&state[]=${redirect.searchParams.get('state')}`]) {
      expect((await call('GET', `/ford-connect/auth/callback${search}`)).status, search).to.equal(400);
    }
    // A state issued for this account, pasted into another account: foreign there, and it does not spend it.
    const again = await call('POST', '/ford-connect/accounts/acc/authorize', tokens.admin, {});
    const againRedirect = await consentAt(again.json.url as string, { tick: ALL });
    expect((await call('POST', '/ford-connect/accounts/other/paste', tokens.admin, { url: againRedirect })).status).to.equal(400);
    expect(tokenRequests()).to.equal(before + 1);
    const pasted = await call('POST', '/ford-connect/accounts/acc/paste', tokens.admin, { url: againRedirect });
    expect(pasted.json).to.include({ connected: true });
    expect(tokenRequests()).to.equal(before + 2);

    const status = await call('GET', '/ford-connect/accounts/acc', tokens.admin);
    expect(status.json).to.include({ deployed: true, state: 'authorized' });
    // The account's audit trail says who was let in, and when a foreign address was refused.
    const audit = (await call('GET', '/ford-connect/accounts/acc/audit', tokens.admin)).json.records as { action: string; outcome: string; detail: string }[];
    expect(audit.filter((r) => r.action === 'auth.grant').map((r) => r.outcome).reverse()).to.deep.equal(['ok', 'ok']);
  });

  it('keeps flows_cred.json and the kit\'s token file free of the client secret and of every token, also after a refresh token rotated', async () => {
    // A rotation at runtime: the access token expires, the next call refreshes (and the provider rotates the refresh token).
    sim.world.store.expireAllAccessTokens();
    const refreshes = () => sim.exchanges.filter((x) => x.path === '/oauth2/v2.0/token' && (x.body as { grant_type?: string } | undefined)?.grant_type === 'refresh_token').length;
    const before = refreshes();
    expect((await call('GET', '/ford-connect/accounts/acc/vehicles', tokens.admin)).status).to.equal(200);
    expect(refreshes()).to.equal(before + 1);

    const secrets = secretsOf(sim);
    const credentialsFile = path.join(userDir, 'flows_cred.json');
    const tokenFile = path.join(userDir, 'ford-connect', 'tokens-acc.json');
    const atRest: Captured[] = [credentialsFile, tokenFile, path.join(userDir, 'flows.json')].map((file) => ({ source: 'file', where: path.basename(file), strings: [fs.readFileSync(file, 'utf8')] }));
    const leaks = findLeaks(atRest, secrets);
    expect(leaks.length, describeLeaks(leaks)).to.equal(0);
    const kinds = [...new Set(secrets.credentials.values())];
    expect(kinds).to.include.members(['access token', 'refresh token', 'authorization code', 'client secret', 'PKCE verifier']);
    for (const file of [credentialsFile, tokenFile]) {
      const text = fs.readFileSync(file, 'utf8');
      for (const word of ['demo-secret', 'accessToken', 'refreshToken', 'clientSecret', 'access_token', 'refresh_token']) expect(text, `${path.basename(file)} in clear`).to.not.include(word);
    }
    expect(fs.statSync(tokenFile).mode & 0o077, 'token file readable by others').to.equal(0);

    // Both are sealed, not empty: opened with the secret they hold what they should.
    const credentials = decryptNodeRedCredentials(credentialsFile);
    expect(credentials.acc).to.deep.equal({ clientId: 'demo-client', clientSecret: 'demo-secret' });
    const stored = new TokenStore(path.join(userDir, 'ford-connect'), 'acc', CREDENTIAL_SECRET).load();
    const live = [...sim.world.store.refreshTokens.values()].filter((t) => !t.revoked && t.rotatedAt === undefined).map((t) => t.token);
    expect(live, 'the stored refresh token is the live one').to.include(stored?.refreshToken);
    expect(() => new TokenStore(path.join(userDir, 'ford-connect'), 'acc', 'another secret').load()).to.throw();

    // What the editor is given back holds no secret either.
    for (const route of ['/flows', '/credentials/ford-account/acc', '/ford-connect/accounts/acc', '/ford-connect/accounts/acc/audit']) {
      const res = await call('GET', route, tokens.admin);
      expect(res.status, route).to.equal(200);
    }
    const creds = await call('GET', '/credentials/ford-account/acc', tokens.admin);
    expect(creds.json).to.deep.equal({ clientId: 'demo-client', has_clientSecret: true });
  });

  it('printed nothing secret, and answered nothing secret, all along', async () => {
    // Node-RED logged at debug level the whole time: its output, and every answer above, against everything the simulator knows.
    const secrets = secretsOf(sim, { credentials: [[CREDENTIAL_SECRET, 'client secret'], [PASSWORD, 'client secret'], ...Object.values(tokens).map((t): [string, 'token'] => [t, 'token'])] });
    const leaks = findLeaks([{ source: 'stdio', where: 'Node-RED output', strings: [output] }, ...answers], secrets);
    expect(leaks.length, describeLeaks(leaks)).to.equal(0);
    expect(output).to.match(/ford-account|Started flows/);
  });
});
