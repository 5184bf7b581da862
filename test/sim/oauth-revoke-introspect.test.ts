import { expect } from 'chai';
import type { RunningSimulator } from '../../src/sim';
import { withSimulator } from '../helpers/sim';
import { clientCredentials, connect, introspect, refresh, revoke, signIn, FLEET_CLIENT } from '../helpers/oauth-flow';

describe('sim oauth: revocation (RFC 7009) and introspection (RFC 7662)', () => {
  let sim: RunningSimulator;
  let cookie: string;

  before(async () => {
    sim = await withSimulator();
    cookie = await signIn(sim.url);
  });
  after(() => sim.close());

  const fleet = { clientId: FLEET_CLIENT.clientId, clientSecret: FLEET_CLIENT.clientSecret };

  describe('introspection', () => {
    it('describes a live access token', async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status', 'command:lock'], cookie });
      const res = await introspect(sim.url, tokens.access_token);
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const record = sim.world.store.accessTokens.get(tokens.access_token);
      expect(res.body).to.deep.equal({
        active: true,
        scope: 'read:status command:lock',
        client_id: 'demo-client',
        token_type: 'Bearer',
        exp: Math.floor(Number(record?.expiresAt) / 1000),
        iat: Math.floor(Number(record?.issuedAt) / 1000),
        sub: 'owner-1',
        auth_time: Math.floor(Number(record?.authTime) / 1000),
      });
      expect(res.body.exp).to.equal(tokens.expires_on);
      expect(sim.world.counts.get('oauth.introspect')).to.be.greaterThan(0);
    });

    it('describes a live refresh token, and a rotated one as inactive', async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status'], cookie });
      const live = await introspect(sim.url, tokens.refresh_token, { hint: 'refresh_token' });
      expect(live.body.active).to.equal(true);
      expect(live.body.token_type).to.equal('refresh_token');
      await refresh(sim.url, { refreshToken: tokens.refresh_token });
      expect((await introspect(sim.url, tokens.refresh_token)).body).to.deep.equal({ active: false });
    });

    it('an unknown token is just inactive', async () => {
      const res = await introspect(sim.url, 'not-a-token');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ active: false });
    });

    it("another client's token is inactive for this client", async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status'], cookie });
      const res = await introspect(sim.url, tokens.access_token, fleet);
      expect(res.body).to.deep.equal({ active: false });
    });

    it('does not count as the app reaching the vehicle', async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status'], cookie });
      const grant = sim.world.store.activeGrant('owner-1', 'demo-client');
      const before = grant?.lastAccessAt;
      await introspect(sim.url, tokens.access_token);
      expect(grant?.lastAccessAt).to.equal(before);
    });

    it('needs client authentication', async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status'], cookie });
      const wrong = await introspect(sim.url, tokens.access_token, { clientSecret: 'nope' });
      expect(wrong.status).to.equal(401);
      expect(wrong.body.error).to.equal('invalid_client');
      expect(wrong.headers.get('www-authenticate')).to.match(/^Basic/);
      const none = await fetch(`${sim.url}/oauth2/v2.0/introspect`, { method: 'POST', body: new URLSearchParams({ token: tokens.access_token }) });
      expect(none.status).to.equal(401);
      const basic = await introspect(sim.url, tokens.access_token, { basic: true });
      expect(basic.body.active).to.equal(true);
    });

    it('needs a token parameter, as a form, over POST', async () => {
      const missing = await fetch(`${sim.url}/oauth2/v2.0/introspect`, { method: 'POST', body: new URLSearchParams({ client_id: 'demo-client', client_secret: 'demo-secret' }) });
      expect(missing.status).to.equal(400);
      expect(((await missing.json()) as { error: string }).error).to.equal('invalid_request');
      const get = await fetch(`${sim.url}/oauth2/v2.0/introspect`);
      expect(get.status).to.equal(405);
      expect(get.headers.get('allow')).to.equal('POST');
    });
  });

  describe('revocation', () => {
    it('revoking a refresh token ends the grant: its access tokens die too', async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status'], cookie });
      const res = await revoke(sim.url, tokens.refresh_token, { hint: 'refresh_token' });
      expect(res.status).to.equal(200);
      expect(res.headers.get('cache-control')).to.equal('no-store');
      expect((await introspect(sim.url, tokens.access_token)).body.active).to.equal(false);
      expect((await introspect(sim.url, tokens.refresh_token)).body.active).to.equal(false);
      expect((await refresh(sim.url, { refreshToken: tokens.refresh_token })).body.error).to.equal('invalid_grant');
      const grant = [...sim.world.store.grants.values()].find((g) => g.clientId === 'demo-client' && g.ownerId === 'owner-1' && g.revokedReason === 'revoked by the app');
      expect(grant, 'revoked grant').to.not.equal(undefined);
      const audit = sim.world.audit.forOwner('owner-1').find((e) => e.action === 'auth.revoked');
      expect(audit?.outcome).to.equal('ok');
      expect(sim.world.counts.get('oauth.revoke')).to.be.greaterThan(0);
    });

    it('finds a refresh token without a hint, or with a wrong one', async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status'], cookie });
      expect((await revoke(sim.url, tokens.refresh_token, { hint: 'access_token' })).status).to.equal(200);
      expect((await introspect(sim.url, tokens.access_token)).body.active).to.equal(false);
    });

    it('revoking an access token ends only that token', async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status'], cookie });
      expect((await revoke(sim.url, tokens.access_token)).status).to.equal(200);
      expect((await introspect(sim.url, tokens.access_token)).body.active).to.equal(false);
      expect((await introspect(sim.url, tokens.refresh_token)).body.active).to.equal(true);
      const fresh = await refresh(sim.url, { refreshToken: tokens.refresh_token });
      expect(fresh.status).to.equal(200);
      expect((await introspect(sim.url, String(fresh.body.access_token))).body.active).to.equal(true);
    });

    it("answers 200 for unknown tokens and leaves another client's token alone", async () => {
      expect((await revoke(sim.url, 'never-issued')).status).to.equal(200);
      const tokens = await connect(sim.url, { scopes: ['read:status'], cookie });
      expect((await revoke(sim.url, tokens.refresh_token, fleet)).status).to.equal(200);
      expect((await revoke(sim.url, tokens.access_token, fleet)).status).to.equal(200);
      expect((await introspect(sim.url, tokens.access_token)).body.active).to.equal(true);
      expect((await introspect(sim.url, tokens.refresh_token)).body.active).to.equal(true);
    });

    it('a fleet client can revoke its own client-credentials token', async () => {
      const token = String((await clientCredentials(sim.url)).body.access_token);
      expect((await introspect(sim.url, token, fleet)).body.active).to.equal(true);
      expect((await revoke(sim.url, token, { ...fleet, basic: true })).status).to.equal(200);
      expect((await introspect(sim.url, token, fleet)).body.active).to.equal(false);
    });

    it('needs client authentication', async () => {
      const tokens = await connect(sim.url, { scopes: ['read:status'], cookie });
      const res = await revoke(sim.url, tokens.refresh_token, { clientSecret: 'wrong' });
      expect(res.status).to.equal(401);
      expect(res.body.error).to.equal('invalid_client');
      const anonymous = await fetch(`${sim.url}/oauth2/v2.0/revoke`, { method: 'POST', body: new URLSearchParams({ token: tokens.refresh_token }) });
      expect(anonymous.status).to.equal(401);
      expect((await introspect(sim.url, tokens.access_token)).body.active).to.equal(true);
    });

    it('refuses a missing token, a JSON body and GET', async () => {
      const missing = await revoke(sim.url, '');
      expect(missing.status).to.equal(400);
      expect(missing.body.error).to.equal('invalid_request');
      const json = await fetch(`${sim.url}/oauth2/v2.0/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'x' }) });
      expect(json.status).to.equal(400);
      const get = await fetch(`${sim.url}/oauth2/v2.0/revoke`);
      expect(get.status).to.equal(405);
    });
  });
});
