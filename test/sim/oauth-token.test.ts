import { expect } from 'chai';
import type { RunningSimulator } from '../../src/sim';
import { withSimulator } from '../helpers/sim';
import {
  DEMO_CLIENT,
  authorize,
  clientCredentials,
  connect,
  exchangeCode,
  introspect,
  pkcePair,
  postOAuth,
  refresh,
  signIn,
  type TokenBody,
} from '../helpers/oauth-flow';

describe('sim oauth: token endpoint', () => {
  let sim: RunningSimulator;
  let cookie: string;

  before(async () => {
    sim = await withSimulator();
    cookie = await signIn(sim.url);
  });
  after(() => sim.close());

  const tokenUrl = () => `${sim.url}/oauth2/v2.0/token`;
  const codeFor = (scopes: string[] = ['read:status', 'command:lock'], tick?: string[]) => authorize(sim.url, { scopes, tick, cookie });

  function rawPost(path: string, body: string, contentType = 'application/x-www-form-urlencoded', headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  }

  describe('authorization code + PKCE', () => {
    it('exchanges a code for a Ford-shaped token response', async () => {
      const { code, verifier } = await codeFor();
      const before = sim.world.clock.now();
      const res = await exchangeCode(sim.url, { code: String(code), verifier });
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const body = res.body;
      expect(body.access_token).to.be.a('string').with.length.greaterThan(30);
      expect(body.refresh_token).to.be.a('string').with.length.greaterThan(30);
      expect(body.access_token).not.to.equal(body.refresh_token);
      expect(body.token_type).to.equal('Bearer');
      expect(body.expires_in).to.equal(1200);
      expect(body.refresh_token_expires_in).to.equal(90 * 24 * 3600);
      // expires_on is epoch seconds on the simulated clock.
      expect(body.expires_on).to.be.within(Math.floor(before / 1000) + 1200, Math.floor(sim.world.clock.now() / 1000) + 1201);
      expect(body.scope).to.equal('read:status command:lock');
      expect(Object.keys(body)).to.have.members(['access_token', 'token_type', 'expires_in', 'expires_on', 'refresh_token', 'refresh_token_expires_in', 'scope']);
      expect(sim.world.counts.get('oauth.token.authorization_code')).to.be.greaterThan(0);
    });

    it('takes the client secret by HTTP Basic too', async () => {
      const { code, verifier } = await codeFor();
      const res = await exchangeCode(sim.url, { code: String(code), verifier, basic: true });
      expect(res.status).to.equal(200);
    });

    it('refuses a wrong verifier, and the code is spent', async () => {
      const { code, verifier } = await codeFor();
      const wrong = await exchangeCode(sim.url, { code: String(code), verifier: pkcePair().verifier });
      expect(wrong.status).to.equal(400);
      expect(wrong.body.error).to.equal('invalid_grant');
      const right = await exchangeCode(sim.url, { code: String(code), verifier });
      expect(right.status).to.equal(400);
      expect(right.body.error).to.equal('invalid_grant');
    });

    it('refuses an exchange without the verifier', async () => {
      const { code } = await codeFor();
      const res = await exchangeCode(sim.url, { code: String(code) });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('invalid_grant');
    });

    it('refuses a different redirect_uri than the one authorized', async () => {
      const { code, verifier } = await codeFor();
      const res = await exchangeCode(sim.url, { code: String(code), verifier, redirectUri: 'http://localhost:1880/ford-connect/auth/callback' });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.be.oneOf(['invalid_request', 'invalid_grant']);
    });

    it('refuses a code issued to another client', async () => {
      sim.world.store.addClient({ id: 'other-app', secret: 'other-secret', name: 'Other', redirectUris: [DEMO_CLIENT.redirectUri], grants: ['authorization_code', 'refresh_token'] });
      const { code, verifier } = await codeFor();
      const res = await exchangeCode(sim.url, { code: String(code), verifier, clientId: 'other-app', clientSecret: 'other-secret' });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('invalid_grant');
    });

    it('a code is single use; a replay revokes what was issued from it', async () => {
      const { code, verifier } = await codeFor();
      const first = await exchangeCode(sim.url, { code: String(code), verifier });
      expect(first.status).to.equal(200);
      // Rotate once so the descendants of the code include a second generation.
      const rotated = await refresh(sim.url, { refreshToken: String(first.body.refresh_token) });
      expect(rotated.status).to.equal(200);

      const replay = await exchangeCode(sim.url, { code: String(code), verifier });
      expect(replay.status).to.equal(400);
      expect(replay.body.error).to.equal('invalid_grant');

      for (const token of [first.body.access_token, rotated.body.access_token]) {
        expect((await introspect(sim.url, String(token))).body.active).to.equal(false);
      }
      const again = await refresh(sim.url, { refreshToken: String(rotated.body.refresh_token) });
      expect(again.body.error).to.equal('invalid_grant');
    });

    it("another client presenting an app's code, fresh or spent, gets a plain invalid_grant and revokes nothing", async () => {
      const local = await withSimulator();
      try {
        const rival = { clientId: 'rival-app', clientSecret: 'rival-secret' };
        local.world.store.addClient({ id: rival.clientId, secret: rival.clientSecret, name: 'Rival', redirectUris: [DEMO_CLIENT.redirectUri], grants: ['authorization_code', 'refresh_token'] });
        const { code, verifier } = await authorize(local.url, { scopes: ['read:status'] });
        const plain = { error: 'invalid_grant', error_description: 'Invalid grant: authorization code is invalid' };

        const early = await exchangeCode(local.url, { code: String(code), verifier, ...rival });
        expect(early.body).to.deep.equal(plain);
        const mine = await exchangeCode(local.url, { code: String(code), verifier });
        expect(mine.status, 'the fresh code was not burned by the rival').to.equal(200);

        const auditBefore = local.world.audit.all().length;
        for (const basic of [false, true]) {
          const replay = await exchangeCode(local.url, { code: String(code), verifier, ...rival, basic });
          expect(replay.status).to.equal(400);
          expect(replay.body).to.deep.equal(plain);
        }
        expect(local.world.audit.all().slice(auditBefore)).to.deep.equal([]);
        expect((await introspect(local.url, String(mine.body.access_token))).body.active).to.equal(true);
        expect((await refresh(local.url, { refreshToken: String(mine.body.refresh_token) })).status).to.equal(200);

        // The app's own replay still revokes what the code issued.
        const own = await exchangeCode(local.url, { code: String(code), verifier });
        expect(own.body.error).to.equal('invalid_grant');
        expect(own.body.error_description).to.match(/already used/);
      } finally {
        await local.close();
      }
    });

    it('a code expires on the simulated clock', async () => {
      const { code, verifier } = await codeFor();
      sim.world.clock.advance((sim.world.options.authorizationCodeSeconds + 1) * 1000);
      const res = await exchangeCode(sim.url, { code: String(code), verifier });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('invalid_grant');
    });

    it('an unknown code is invalid_grant', async () => {
      const res = await exchangeCode(sim.url, { code: 'no-such-code', verifier: pkcePair().verifier });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('invalid_grant');
    });
  });

  describe('client authentication', () => {
    it('a wrong secret is 401 invalid_client, in the body or by Basic', async () => {
      const { code, verifier } = await codeFor();
      const body = await exchangeCode(sim.url, { code: String(code), verifier, clientSecret: 'wrong' });
      expect(body.status).to.equal(401);
      expect(body.body.error).to.equal('invalid_client');
      expect(body.headers.get('www-authenticate')).to.match(/^Basic/);
      const basic = await exchangeCode(sim.url, { code: String(code), verifier, clientSecret: 'wrong', basic: true });
      expect(basic.status).to.equal(401);
      expect(basic.body.error).to.equal('invalid_client');
      // A failed authentication does not spend the code.
      expect((await exchangeCode(sim.url, { code: String(code), verifier })).status).to.equal(200);
    });

    it('a confidential client cannot skip its secret by sending a PKCE verifier', async () => {
      const { code, verifier } = await codeFor();
      const res = await rawPost('/oauth2/v2.0/token', new URLSearchParams({ grant_type: 'authorization_code', code: String(code), code_verifier: verifier, redirect_uri: DEMO_CLIENT.redirectUri, client_id: DEMO_CLIENT.clientId }).toString());
      expect(res.status).to.equal(401);
      expect(((await res.json()) as TokenBody).error).to.equal('invalid_client');
    });

    it('no credentials at all is 401 invalid_client', async () => {
      const res = await rawPost('/oauth2/v2.0/token', 'grant_type=client_credentials');
      expect(res.status).to.equal(401);
      expect(((await res.json()) as TokenBody).error).to.equal('invalid_client');
    });
  });

  describe('refresh tokens', () => {
    it('rotate on every use, with the lifetime and scope of the grant', async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status', 'command:lock'], cookie });
      const first = await refresh(sim.url, { refreshToken: tokens.refresh_token });
      expect(first.status).to.equal(200);
      expect(first.body.refresh_token).to.be.a('string').and.not.equal(tokens.refresh_token);
      expect(first.body.access_token).not.to.equal(tokens.access_token);
      expect(first.body.expires_in).to.equal(1200);
      expect(first.body.scope).to.equal('read:status command:lock');
      expect(sim.world.store.refreshTokens.get(tokens.refresh_token)?.rotatedAt).to.be.a('number');
      const second = await refresh(sim.url, { refreshToken: String(first.body.refresh_token) });
      expect(second.status).to.equal(200);
      const audit = sim.world.audit.forOwner('owner-1').filter((e) => e.action === 'token.refresh' && e.outcome === 'ok');
      expect(audit.length).to.be.at.least(2);
      expect(sim.world.counts.get('oauth.token.refresh_token')).to.be.at.least(2);
    });

    it('reuse of a rotated token revokes the whole grant and raises an alert', async () => {
      const local = await withSimulator();
      try {
        const tokens = await connect(local.url, { scopes: ['read:status'] });
        const rotated = await refresh(local.url, { refreshToken: tokens.refresh_token });
        expect(rotated.status).to.equal(200);

        const replay = await refresh(local.url, { refreshToken: tokens.refresh_token });
        expect(replay.status).to.equal(400);
        expect(replay.body.error).to.equal('invalid_grant');

        // The newest refresh token and every access token stop working too.
        const newest = await refresh(local.url, { refreshToken: String(rotated.body.refresh_token) });
        expect(newest.status).to.equal(400);
        expect(newest.body.error).to.equal('invalid_grant');
        for (const token of [tokens.access_token, rotated.body.access_token]) {
          expect((await introspect(local.url, String(token))).body.active).to.equal(false);
        }
        const grant = [...local.world.store.grants.values()].find((g) => g.ownerId === 'owner-1');
        expect(grant?.revokedAt).to.be.a('number');
        expect(local.world.alerts.forOwner('owner-1').map((a) => a.kind)).to.include('refresh-token-reuse');
        const failed = local.world.audit.forOwner('owner-1').filter((e) => e.action === 'token.refresh' && e.outcome === 'failed');
        expect(failed.length).to.be.at.least(1);
        expect(JSON.stringify(local.world.audit.all())).not.to.include(tokens.refresh_token);
      } finally {
        await local.close();
      }
    });

    it('may narrow the scope but never widen it', async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status', 'command:lock', 'command:charge'], tick: ['read:status', 'command:lock'], cookie });
      expect(tokens.scope).to.equal('read:status command:lock');
      const wider = await refresh(sim.url, { refreshToken: tokens.refresh_token, scope: 'read:status command:charge' });
      expect(wider.status).to.equal(400);
      expect(wider.body.error).to.equal('invalid_scope');
      // The refused attempt did not spend the token.
      const narrower = await refresh(sim.url, { refreshToken: tokens.refresh_token, scope: 'read:status' });
      expect(narrower.status).to.equal(200);
      expect(narrower.body.scope).to.equal('read:status');
      const back = await refresh(sim.url, { refreshToken: String(narrower.body.refresh_token), scope: 'read:status command:lock' });
      expect(back.body.error).to.equal('invalid_scope');
    });

    it("Ford's `access` / client-id scope on refresh means what the token has", async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status'], cookie });
      const res = await refresh(sim.url, { refreshToken: tokens.refresh_token, scope: `${DEMO_CLIENT.clientId} offline_access openid` });
      expect(res.status).to.equal(200);
      expect(res.body.scope).to.equal('read:status');
    });

    it('belongs to the client it was issued to', async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status'], cookie });
      const res = await refresh(sim.url, { refreshToken: tokens.refresh_token, clientId: 'fleet-client', clientSecret: 'fleet-secret' });
      expect(res.status).to.be.oneOf([400]);
      expect(res.body.error).to.be.oneOf(['unauthorized_client', 'invalid_grant']);
      expect((await refresh(sim.url, { refreshToken: tokens.refresh_token })).status).to.equal(200);
    });

    it("another client presenting an app's old or current refresh token gets a plain invalid_grant and ends nothing", async () => {
      const local = await withSimulator();
      try {
        const rival = { clientId: 'rival-app', clientSecret: 'rival-secret' };
        local.world.store.addClient({ id: rival.clientId, secret: rival.clientSecret, name: 'Rival', redirectUris: [DEMO_CLIENT.redirectUri], grants: ['authorization_code', 'refresh_token'] });
        const tokens = await connect(local.url, { scopes: ['read:status'] });
        const rotated = await refresh(local.url, { refreshToken: tokens.refresh_token });
        expect(rotated.status).to.equal(200);
        const current = String(rotated.body.refresh_token);
        const auditBefore = local.world.audit.all().length;

        for (const [what, token] of [['rotated', tokens.refresh_token], ['current', current]]) {
          for (const basic of [false, true]) {
            const stolen = await refresh(local.url, { refreshToken: token, ...rival, basic });
            expect(stolen.status, what).to.equal(400);
            expect(stolen.body, what).to.deep.equal({ error: 'invalid_grant', error_description: 'Invalid grant: refresh token is invalid' });
          }
        }
        // Same answer as for a token that never existed: nothing tells the rival the token is real.
        expect((await refresh(local.url, { refreshToken: 'no-such-token', ...rival })).body.error_description).to.equal('Invalid grant: refresh token is invalid');

        const grants = [...local.world.store.grants.values()].filter((g) => g.clientId === DEMO_CLIENT.clientId);
        expect(grants.map((g) => g.revokedAt)).to.deep.equal([undefined]);
        expect(local.world.store.refreshTokens.get(current)?.rotatedAt, 'the current token was not spent').to.equal(undefined);
        expect(local.world.alerts.all().map((a) => a.kind)).not.to.include('refresh-token-reuse');
        expect(local.world.audit.all().slice(auditBefore), 'nothing written to the owner\'s log in the app\'s name').to.deep.equal([]);
        expect((await introspect(local.url, String(rotated.body.access_token))).body.active).to.equal(true);
        const next = await refresh(local.url, { refreshToken: current });
        expect(next.status, 'the app itself refreshes on').to.equal(200);
      } finally {
        await local.close();
      }
    });

    it('expire on the simulated clock (90 days by default)', async () => {
      const local = await withSimulator();
      try {
        const tokens = await connect(local.url, { scopes: ['read:status'] });
        local.world.clock.advance(90 * 24 * 3600 * 1000 + 1000);
        const res = await refresh(local.url, { refreshToken: tokens.refresh_token });
        expect(res.status).to.equal(400);
        expect(res.body.error).to.equal('invalid_grant');
      } finally {
        await local.close();
      }
    });

    it('stop working when the owner revokes the app', async () => {
      const local = await withSimulator();
      try {
        const tokens = await connect(local.url, { scopes: ['read:status'] });
        const grant = local.world.store.activeGrant('owner-1', 'demo-client');
        local.world.store.revokeGrant(String(grant?.id), 'test');
        const res = await refresh(local.url, { refreshToken: tokens.refresh_token });
        expect(res.body.error).to.equal('invalid_grant');
      } finally {
        await local.close();
      }
    });
  });

  describe('access token lifetime', () => {
    it('is configurable and counted on the simulated clock', async () => {
      const local = await withSimulator({ accessTokenSeconds: 60, timeScale: 1 });
      try {
        const tokens = await connect(local.url, { scopes: ['read:status'] });
        expect(tokens.expires_in).to.equal(60);
        expect(tokens.expires_on).to.be.closeTo(Math.floor(local.world.clock.now() / 1000) + 60, 2);
        expect((await introspect(local.url, tokens.access_token)).body.active).to.equal(true);
        local.world.clock.advance(61_000);
        expect((await introspect(local.url, tokens.access_token)).body.active).to.equal(false);
        // The refresh token outlives it.
        expect((await refresh(local.url, { refreshToken: tokens.refresh_token })).status).to.equal(200);
      } finally {
        await local.close();
      }
    });

    it('expires_on follows the simulated clock, not the wall clock', async () => {
      const local = await withSimulator();
      try {
        local.world.clock.advance(3 * 24 * 3600 * 1000);
        const tokens = await connect(local.url, { scopes: ['read:status'] });
        expect(tokens.expires_on).to.be.closeTo(Math.floor(local.world.clock.now() / 1000) + 1200, 2);
        expect(Number(tokens.expires_on) - Date.now() / 1000).to.be.greaterThan(3 * 24 * 3600);
      } finally {
        await local.close();
      }
    });

    it('the default access token expires after 1200 simulated seconds', async () => {
      const local = await withSimulator();
      try {
        const tokens = await connect(local.url, { scopes: ['read:status'] });
        local.world.clock.advance(1190_000);
        expect((await introspect(local.url, tokens.access_token)).body.active).to.equal(true);
        local.world.clock.advance(11_000);
        expect((await introspect(local.url, tokens.access_token)).body.active).to.equal(false);
      } finally {
        await local.close();
      }
    });
  });

  describe('client credentials', () => {
    it('gives the fleet client a token over its owner, without a refresh token', async () => {
      const res = await clientCredentials(sim.url, { scope: 'read:status command:lock' });
      expect(res.status).to.equal(200);
      expect(res.body.access_token).to.be.a('string');
      expect(res.body.refresh_token).to.equal(undefined);
      expect(res.body.refresh_token_expires_in).to.equal(undefined);
      expect(res.body.expires_in).to.equal(1200);
      expect(res.body.scope).to.equal('read:status command:lock');
      const record = sim.world.store.accessTokens.get(String(res.body.access_token));
      expect(record?.ownerId).to.equal('owner-fleet');
      const grant = sim.world.store.grants.get(String(record?.grantId));
      expect(grant?.vehicleIds).to.have.members(sim.world.fleet.ownedBy('owner-fleet').map((v) => v.id));
      expect(sim.world.alerts.forOwner('owner-fleet').map((a) => a.kind)).to.include('app-connected');
    });

    it('keeps one grant per fleet client, widened by later requests, beside any consent of the same owner', async () => {
      const local = await withSimulator();
      try {
        const first = await clientCredentials(local.url, { scope: 'read:status' });
        const second = await clientCredentials(local.url, { scope: 'command:lock' });
        const grantOf = (token: string | undefined) => local.world.store.accessTokens.get(String(token))?.grantId;
        expect(grantOf(second.body.access_token)).to.equal(grantOf(first.body.access_token));
        const fleetGrants = [...local.world.store.grants.values()].filter((g) => g.clientId === 'fleet-client');
        expect(fleetGrants.map((g) => [g.flow, g.scopes])).to.deep.equal([['client_credentials', ['read:status', 'command:lock']]]);
        expect(local.world.store.accessTokens.get(String(first.body.access_token))?.scopes, 'earlier tokens keep what they had').to.deep.equal(['read:status']);
        expect(local.world.alerts.forOwner('owner-fleet').filter((a) => a.kind === 'app-connected')).to.have.length(1);
        // A consent by the fleet owner to another app is a grant of its own and leaves the fleet grant alone.
        await connect(local.url, { scopes: ['read:status'], email: 'fleet@example.com' });
        expect(local.world.store.activeGrant('owner-fleet', 'fleet-client', 'client_credentials')?.id).to.equal(fleetGrants[0].id);
        expect(local.world.store.grantsOfOwner('owner-fleet').map((g) => g.flow)).to.have.members(['client_credentials', 'authorization_code']);
      } finally {
        await local.close();
      }
    });

    it('without a scope gets every fleet scope; with Basic auth too', async () => {
      const res = await clientCredentials(sim.url, { basic: true });
      expect(res.status).to.equal(200);
      expect(String(res.body.scope).split(' ')).to.have.members(sim.world.store.clients.get('fleet-client')?.fleetScopes ?? []);
    });

    it('refuses unknown scopes', async () => {
      const res = await clientCredentials(sim.url, { scope: 'read:status fly' });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('invalid_scope');
    });

    it('is refused for the demo (browser) client', async () => {
      const res = await clientCredentials(sim.url, { clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_CLIENT.clientSecret });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('unauthorized_client');
    });
  });

  describe("Ford's tenant path", () => {
    it('answers at /<tenant>/oauth2/v2.0/token?p=<policy>', async () => {
      const { code, verifier } = await codeFor();
      const tokenPath = '/914d88b1-3523-4bf6-9be4-1b96b4f6f919/oauth2/v2.0/token?p=B2C_1A_signup_signin_common';
      const res = await exchangeCode(sim.url, { code: String(code), verifier, tokenPath });
      expect(res.status).to.equal(200);
      const again = await refresh(sim.url, { refreshToken: String(res.body.refresh_token), tokenPath });
      expect(again.status).to.equal(200);
      const get = await fetch(`${sim.url}${tokenPath}`);
      expect(get.status).to.equal(405);
    });
  });

  describe('bad input', () => {
    it('GET is 405 with Allow: POST and an OAuth error', async () => {
      const res = await fetch(tokenUrl());
      expect(res.status).to.equal(405);
      expect(res.headers.get('allow')).to.equal('POST');
      expect(((await res.json()) as TokenBody).error).to.equal('invalid_request');
    });

    it('an unsupported grant type is 400 unsupported_grant_type', async () => {
      const res = await postOAuth<TokenBody>(tokenUrl(), { grant_type: 'password', username: 'a', password: 'b' });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('unsupported_grant_type');
      const nonsense = await postOAuth<TokenBody>(tokenUrl(), { grant_type: 'urn:made:up' });
      expect(nonsense.body.error).to.equal('unsupported_grant_type');
    });

    it('a missing grant type or code is 400 invalid_request', async () => {
      expect((await postOAuth<TokenBody>(tokenUrl(), {})).body.error).to.equal('invalid_request');
      const noCode = await postOAuth<TokenBody>(tokenUrl(), { grant_type: 'authorization_code' });
      expect(noCode.status).to.equal(400);
      expect(noCode.body.error).to.equal('invalid_request');
      const noRefresh = await postOAuth<TokenBody>(tokenUrl(), { grant_type: 'refresh_token' });
      expect(noRefresh.body.error).to.equal('invalid_request');
    });

    it('a JSON body is 400 invalid_request (form-encoded only)', async () => {
      const res = await rawPost('/oauth2/v2.0/token', JSON.stringify({ grant_type: 'client_credentials', client_id: 'fleet-client', client_secret: 'fleet-secret' }), 'application/json');
      expect(res.status).to.equal(400);
      expect(((await res.json()) as TokenBody).error).to.equal('invalid_request');
    });

    it('a body without content type, or plain text, is 400 invalid_request', async () => {
      const text = await rawPost('/oauth2/v2.0/token', 'grant_type=client_credentials', 'text/plain');
      expect(text.status).to.equal(400);
      expect(((await text.json()) as TokenBody).error).to.equal('invalid_request');
      const none = await fetch(tokenUrl(), { method: 'POST' });
      expect(none.status).to.equal(400);
      expect(((await none.json()) as TokenBody).error).to.equal('invalid_request');
    });

    it('garbage in a form body does not crash the server', async () => {
      for (const body of ['%%%', 'grant_type=%E0%A4%A', '&&&=&', 'grant_type', `grant_type=${'x'.repeat(5000)}`]) {
        const res = await rawPost('/oauth2/v2.0/token', body);
        expect(res.status, body).to.be.oneOf([400, 401]);
        expect(((await res.json()) as TokenBody).error, body).to.be.a('string');
      }
    });

    it('a malformed JSON body or an oversized one is refused, and the server keeps answering', async () => {
      // The app-wide body parsers answer these before the OAuth routes run (see server.ts).
      const json = await rawPost('/oauth2/v2.0/token', '{"grant_type":', 'application/json');
      expect(json.status).to.equal(400);
      const huge = await rawPost('/oauth2/v2.0/token', `grant_type=client_credentials&pad=${'x'.repeat(70_000)}`);
      expect(huge.status).to.equal(413);
      expect((await clientCredentials(sim.url)).status).to.equal(200);
    });

    it('a parameter sent twice is 400 invalid_request', async () => {
      const res = await rawPost('/oauth2/v2.0/token', 'grant_type=client_credentials&grant_type=refresh_token&client_id=fleet-client&client_secret=fleet-secret');
      expect(res.status).to.equal(400);
      expect(((await res.json()) as TokenBody).error).to.equal('invalid_request');
    });

    it('the server still answers after all of that', async () => {
      expect((await clientCredentials(sim.url)).status).to.equal(200);
    });
  });
});
