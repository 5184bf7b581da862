import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import sinon from 'sinon';
import { buildCommand, describe as describeSim, optionsFrom } from '../../src/cli/ford-sim';
import type { RunningSimulator } from '../../src/sim';
import { defaultFaults, type FaultSettings } from '../../src/sim/control/faults';
import type { Vehicle } from '../../src/sim/vehicles/vehicle';
import { mintToken, withSimulator } from '../helpers/sim';
import { authorizeUrl, clientCredentials, connect, introspect, pkcePair, refresh, signIn } from '../helpers/oauth-flow';

/**
 * RFC 9470 step-up on the FordConnect v1 surface: with `stepUpMaxAgeSeconds`
 * on, unlock and remote start need an owner sign-in at most that old; a
 * refresh does not count as one.
 */

const APP_ID = 'afdc085b-377a-4351-b23e-5e1d35fb3700';
const SPELLINGS = ['/api/fordconnect/v3/vehicles', '/api/fordconnect/v2/vehicles', '/api/fordconnect/v1/vehicles', '/api/fordconnect/vehicles/v1'];
const V1 = '/api/fordconnect/v1/vehicles';
const COMMANDS = ['command:lock', 'command:remote-start', 'command:horn-lights', 'command:charge', 'read:status'];
const MAX_AGE = 300;
const SEC = 1000;
/** Tokens that are not about expiry outlive every clock jump here. */
const YEAR_SECONDS = 365 * 24 * 3600;
const CHALLENGE = `Bearer error="insufficient_user_authentication", error_description="A recent owner sign-in is required for this command", max_age="${MAX_AGE}"`;
const BODY = { error: 'insufficient_user_authentication', error_description: 'A recent owner sign-in is required for this command' };

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

describe('sim step-up for sensitive commands (RFC 9470)', () => {
  let sim: RunningSimulator;
  let truck: Vehicle;

  before(async () => {
    // No rate limits: these tests send many commands to one vehicle.
    sim = await withSimulator({ rateLimits: { perClientPerMinute: 0, perVehiclePerMinute: 0 } });
    const found = sim.world.fleet.ownedBy('owner-1').find((v) => v.nickName === 'Work Truck');
    if (!found) throw new Error('seed fleet changed: no Work Truck');
    truck = found;
  });
  after(() => sim.close());
  afterEach(() => {
    sinon.restore();
    Object.assign(sim.world.faults, defaultFaults());
  });

  async function post(path: string, token: string): Promise<Reply> {
    const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { Accept: 'application/json', 'Application-Id': APP_ID, 'api-version': '2020-06-01', Authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function control(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const stepUpOn = async (seconds = MAX_AGE): Promise<void> => {
    const res = await control('PUT', '/sim/faults', { stepUpMaxAgeSeconds: seconds });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
  };

  /** A token whose owner signed in `ageSeconds` ago (simulated). */
  const tokenSignedIn = (ageSeconds: number, scopes = COMMANDS, ownerId = 'owner-1'): string =>
    mintToken(sim, ownerId, scopes, { lifetimeSeconds: YEAR_SECONDS, authTime: sim.world.clock.now() - ageSeconds * SEC }).token;

  const lastSeq = (): number => sim.world.audit.all().at(-1)?.seq ?? 0;
  const auditSince = (seq: number) => sim.world.audit.all().filter((e) => e.seq > seq);

  const expectStepUp = (res: Reply, what: string): void => {
    expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.equal(401);
    expect(res.headers.get('www-authenticate'), what).to.equal(CHALLENGE);
    expect(res.body, what).to.deep.equal(BODY);
  };

  describe('off by default', () => {
    it('is 0 in the faults and in /sim/state', async () => {
      expect(defaultFaults().stepUpMaxAgeSeconds).to.equal(0);
      const state = await control('GET', '/sim/state');
      expect((state.body.faults as FaultSettings).stepUpMaxAgeSeconds).to.equal(0);
    });

    it('lets a token from a day-old sign-in unlock and start the engine', async () => {
      const token = tokenSignedIn(24 * 3600);
      expect((await post(`${V1}/${truck.id}/unlock`, token)).status).to.equal(202);
      expect((await post(`${V1}/${truck.id}/startEngine`, token)).status).to.equal(202);
    });
  });

  describe('on', () => {
    it('refuses unlock and remote start for a stale sign-in under every path spelling, with the exact challenge and body', async () => {
      await stepUpOn();
      const token = tokenSignedIn(MAX_AGE + 1);
      for (const prefix of SPELLINGS) {
        for (const command of ['unlock', 'startEngine']) expectStepUp(await post(`${prefix}/${truck.id}/${command}`, token), `${prefix} ${command}`);
      }
    });

    it('issues nothing to the vehicle when it refuses', async () => {
      sim.world.fleet.issueCommand(truck.id, 'lock');
      sim.world.clock.advance(10 * SEC);
      expect(sim.world.fleet.snapshot(truck.id)?.locked).to.equal(true);
      await stepUpOn();
      const issued = sinon.spy(sim.world.fleet, 'issueCommand');
      const seq = lastSeq();
      expectStepUp(await post(`${V1}/${truck.id}/unlock`, tokenSignedIn(MAX_AGE + 60)), 'unlock');
      sim.world.clock.advance(10 * SEC);
      expect(issued.called).to.equal(false);
      expect(sim.world.fleet.snapshot(truck.id)?.locked).to.equal(true);
      expect(auditSince(seq).filter((e) => e.outcome !== 'denied')).to.deep.equal([]);
    });

    it("records the refusal in the owner's audit log, naming step-up", async () => {
      await stepUpOn();
      const seq = lastSeq();
      expectStepUp(await post(`${V1}/${truck.id}/startEngine`, tokenSignedIn(MAX_AGE + 20)), 'startEngine');
      const entries = auditSince(seq);
      expect(entries).to.have.length(1);
      expect(entries[0]).to.include({ ownerId: 'owner-1', clientId: 'demo-client', vehicleId: truck.id, action: 'remote-start', outcome: 'denied', httpStatus: 401 });
      expect(entries[0].detail).to.match(/^remote start: refused: step-up required/).and.include(`within ${MAX_AGE} s`);
      // The owner's own audit page shows it too.
      const cookie = await signIn(sim.url);
      const page = await (await fetch(`${sim.url}/owner/audit`, { headers: { cookie } })).text();
      expect(page).to.include('step-up required');
    });

    it('lets a fresh sign-in through, and one just within max_age', async () => {
      await stepUpOn();
      expect((await post(`${V1}/${truck.id}/unlock`, tokenSignedIn(0))).status).to.equal(202);
      expect((await post(`${V1}/${truck.id}/startEngine`, tokenSignedIn(MAX_AGE - 2))).status).to.equal(202);
    });

    it('never steps up lock, remote stop, horn and lights, wake or a status refresh', async () => {
      await stepUpOn();
      const token = tokenSignedIn(30 * 24 * 3600);
      for (const command of ['lock', 'stopEngine', 'signal', 'wake', 'status']) {
        const res = await post(`${V1}/${truck.id}/${command}`, token);
        expect(res.status, `${command}: ${JSON.stringify(res.body)}`).to.equal(202);
      }
    });

    it('takes effect and ends as the setting changes, on the simulated clock', async () => {
      const token = tokenSignedIn(0);
      await stepUpOn(60);
      expect((await post(`${V1}/${truck.id}/unlock`, token)).status).to.equal(202);
      sim.world.clock.advance(61 * SEC);
      const res = await post(`${V1}/${truck.id}/unlock`, token);
      expect(res.status).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.include('max_age="60"');
      await control('DELETE', '/sim/faults');
      expect((await post(`${V1}/${truck.id}/unlock`, token)).status).to.equal(202);
    });

    it('comes after the vehicle and scope checks: those refusals win', async () => {
      await stepUpOn();
      const stale = MAX_AGE + 100;
      const noScope = await post(`${V1}/${truck.id}/unlock`, tokenSignedIn(stale, ['read:status']));
      expect(noScope.status).to.equal(403);
      expect(noScope.headers.get('www-authenticate')).to.match(/^Bearer error="insufficient_scope"/);
      // The partner's grant covers the shared car only, not the truck.
      const notMine = await post(`${V1}/${truck.id}/unlock`, tokenSignedIn(stale, COMMANDS, 'owner-2'));
      expect(notMine.status).to.equal(401);
      expect(notMine.body).to.have.property('status', 'FAILED');
      const badToken = await post(`${V1}/${truck.id}/unlock`, 'not-a-token');
      expect(badToken.headers.get('www-authenticate')).to.match(/^Bearer error="invalid_token"/);
    });
  });

  describe('auth_time through the OAuth flow', () => {
    it('is the sign-in behind a consent; a refresh keeps it, so the refreshed token is refused too', async () => {
      await stepUpOn();
      const cookie = await signIn(sim.url);
      const signedInAt = sim.world.clock.now();
      const tokens = await connect(sim.url, { scopes: COMMANDS, cookie });
      expect((await post(`${V1}/${truck.id}/unlock`, tokens.access_token)).status).to.equal(202);

      sim.world.clock.advance((MAX_AGE + 1) * SEC);
      expectStepUp(await post(`${V1}/${truck.id}/unlock`, tokens.access_token), 'after max age');

      const refreshed = await refresh(sim.url, { refreshToken: tokens.refresh_token });
      expect(refreshed.status).to.equal(200);
      const access = refreshed.body.access_token ?? '';
      const original = sim.world.store.accessTokens.get(tokens.access_token)?.authTime;
      expect(sim.world.store.accessTokens.get(access)?.authTime).to.equal(original);
      expect(sim.world.store.refreshTokens.get(refreshed.body.refresh_token ?? '')?.authTime).to.equal(original);
      expect(Math.abs(Number(original) - signedInAt)).to.be.lessThan(5 * SEC);
      expectStepUp(await post(`${V1}/${truck.id}/unlock`, access), 'refreshed token');
      expect((await introspect(sim.url, access)).body).to.have.property('auth_time', Math.floor(Number(original) / 1000));

      // A new sign-in and consent renews it.
      const again = await connect(sim.url, { scopes: COMMANDS });
      expect((await post(`${V1}/${truck.id}/unlock`, again.access_token)).status).to.equal(202);
    });

    it('does not count a consent given in an old session as a sign-in', async () => {
      await stepUpOn();
      const cookie = await signIn(sim.url);
      sim.world.clock.advance((MAX_AGE + 1) * SEC);
      const tokens = await connect(sim.url, { scopes: COMMANDS, cookie });
      expectStepUp(await post(`${V1}/${truck.id}/unlock`, tokens.access_token), 'consent in an old session');
    });

    it('treats a client-credentials token as authenticated when issued', async () => {
      await stepUpOn();
      const van = sim.world.fleet.ownedBy('owner-fleet')[0];
      const first = await clientCredentials(sim.url, { scope: 'command:lock command:remote-start' });
      const token = first.body.access_token ?? '';
      expect((await post(`${V1}/${van.id}/startEngine`, token)).status).to.equal(202);
      sim.world.clock.advance((MAX_AGE + 1) * SEC);
      expectStepUp(await post(`${V1}/${van.id}/unlock`, token), 'fleet token after max age');
      const next = await clientCredentials(sim.url, { scope: 'command:lock command:remote-start' });
      expect((await post(`${V1}/${van.id}/unlock`, next.body.access_token ?? '')).status).to.equal(202);
    });
  });

  describe('authorize max_age', () => {
    const params = (extra: Record<string, string>): Record<string, string> => ({
      client_id: 'demo-client',
      redirect_uri: 'http://127.0.0.1:1880/ford-connect/auth/callback',
      response_type: 'code',
      scope: 'command:lock read:status',
      state: 'abc123',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      ...extra,
    });

    it('sends an owner whose sign-in is older than max_age to sign in again, then back without max_age', async () => {
      const cookie = await signIn(sim.url);
      sim.world.clock.advance(3600 * SEC);
      const url = authorizeUrl(sim.url, params({ max_age: '600' }));
      const res = await fetch(url, { headers: { cookie }, redirect: 'manual' });
      expect(res.status).to.equal(302);
      const login = new URL(res.headers.get('location') ?? '', sim.url);
      expect(login.pathname).to.equal('/owner/login');
      const next = new URL(login.searchParams.get('next') ?? '', sim.url);
      expect(next.pathname).to.equal('/oauth2/v2.0/authorize');
      expect(next.searchParams.has('max_age')).to.equal(false);
      expect(next.searchParams.get('scope')).to.equal('command:lock read:status');

      const fresh = await signIn(sim.url);
      expect((await fetch(next, { headers: { cookie: fresh }, redirect: 'manual' })).status).to.equal(200);
      // A sign-in within max_age goes straight to the consent page.
      expect((await fetch(url, { headers: { cookie: fresh }, redirect: 'manual' })).status).to.equal(200);
    });

    it('refuses a max_age that is not a whole number of seconds', async () => {
      const cookie = await signIn(sim.url);
      const res = await fetch(authorizeUrl(sim.url, params({ max_age: '1.5' })), { headers: { cookie }, redirect: 'manual' });
      expect(res.status).to.equal(302);
      const back = new URL(res.headers.get('location') ?? '');
      expect(back.searchParams.get('error')).to.equal('invalid_request');
      expect(back.searchParams.get('error_description')).to.match(/max_age/);
      expect(back.searchParams.get('state')).to.equal('abc123');
    });
  });

  describe('the control route and the command line', () => {
    it('/sim/faults validates stepUpMaxAgeSeconds, shows it in /sim/state and resets it', async () => {
      for (const bad of [-1, 1.5, '300', null, Number.MAX_VALUE]) {
        const res = await control('PUT', '/sim/faults', { stepUpMaxAgeSeconds: bad });
        expect(res.status, String(bad)).to.equal(400);
        expect(res.body.error, String(bad)).to.match(/^stepUpMaxAgeSeconds must be/);
      }
      expect(sim.world.faults.stepUpMaxAgeSeconds).to.equal(0);
      const ok = await control('PUT', '/sim/faults', { stepUpMaxAgeSeconds: 120 });
      expect(ok.body).to.deep.equal({ ...defaultFaults(), stepUpMaxAgeSeconds: 120 });
      expect(((await control('GET', '/sim/state')).body.faults as FaultSettings).stepUpMaxAgeSeconds).to.equal(120);
      expect((await control('DELETE', '/sim/faults')).body).to.have.property('stepUpMaxAgeSeconds', 0);
    });

    const parse = (args: string[]) => {
      const command = buildCommand().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
      command.parse(['node', 'ford-sim', ...args]);
      return optionsFrom(command.opts());
    };

    it('ford-sim --step-up-max-age sets it (off by default) and refuses nonsense', () => {
      expect(parse([]).faults).to.include({ stepUpMaxAgeSeconds: 0 });
      expect(parse(['--step-up-max-age', '90']).faults).to.include({ stepUpMaxAgeSeconds: 90 });
      expect(() => parse(['--step-up-max-age', '-5'])).to.throw(/expected a number/);
      expect(() => parse(['--step-up-max-age', '1.5'])).to.throw(/whole number/);
    });

    it('documents --step-up-max-age in ford-sim --help', async () => {
      const cli = resolve(__dirname, '../../src/cli/ford-sim.js');
      const { stdout } = await promisify(execFile)(process.execPath, [cli, '--help']);
      expect(stdout).to.include('--step-up-max-age <seconds>').and.include('insufficient_user_authentication');
    });

    it('a simulator started with the flag enforces it and says so on start', async () => {
      const other = await withSimulator(optionsFrom(buildCommand().parse(['node', 'ford-sim', '--port', '0', '--step-up-max-age', '45']).opts()));
      try {
        expect(other.world.faults.stepUpMaxAgeSeconds).to.equal(45);
        expect(describeSim(other)).to.include('Step-up').and.include('45 s');
        const v = other.world.fleet.ownedBy('owner-1')[0];
        const stale = mintToken(other, 'owner-1', COMMANDS, { authTime: other.world.clock.now() - 46 * SEC }).token;
        const res = await fetch(`${other.url}${V1}/${v.id}/unlock`, { method: 'POST', headers: { 'Application-Id': APP_ID, Authorization: `Bearer ${stale}` } });
        expect(res.status).to.equal(401);
        expect(res.headers.get('www-authenticate')).to.include('max_age="45"');
      } finally {
        await other.close();
      }
    });
  });
});
