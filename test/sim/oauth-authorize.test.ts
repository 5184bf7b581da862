import { expect } from 'chai';
import type { RunningSimulator } from '../../src/sim';
import { withSimulator } from '../helpers/sim';
import { DEMO_CLIENT, authorize, authorizeUrl, connect, exchangeCode, parseConsentPage, pkcePair, refresh, signIn } from '../helpers/oauth-flow';

const ALL = ['read:status', 'read:location', 'command:lock', 'command:remote-start', 'command:horn-lights', 'command:charge'];
const SENSITIVE = ['read:location', 'command:lock', 'command:remote-start'];

describe('sim oauth: metadata, authorize and consent', () => {
  let sim: RunningSimulator;
  let cookie: string;

  before(async () => {
    sim = await withSimulator();
    cookie = await signIn(sim.url);
  });
  after(() => sim.close());

  /** A well-formed authorization request; override any parameter, or set it undefined to leave it out. */
  function params(overrides: Record<string, string | undefined> = {}): Record<string, string> {
    const base: Record<string, string | undefined> = {
      client_id: DEMO_CLIENT.clientId,
      redirect_uri: DEMO_CLIENT.redirectUri,
      response_type: 'code',
      scope: 'read:status',
      state: 'st-123',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      ...overrides,
    };
    return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
  }

  function open(query: Record<string, string>, withCookie = cookie): Promise<Response> {
    return fetch(authorizeUrl(sim.url, query), { headers: withCookie ? { cookie: withCookie } : {}, redirect: 'manual' });
  }

  /** Where an error redirect went: the app's callback with error, description and state. */
  function errorBack(res: Response): URL {
    expect(res.status).to.equal(302);
    const location = new URL(String(res.headers.get('location')));
    expect(`${location.origin}${location.pathname}`).to.equal(DEMO_CLIENT.redirectUri);
    expect(location.searchParams.has('code')).to.equal(false);
    return location;
  }

  describe('metadata (RFC 8414)', () => {
    it('names every endpoint under the issuer the caller reached', async () => {
      const res = await fetch(`${sim.url}/.well-known/oauth-authorization-server`);
      expect(res.status).to.equal(200);
      const doc = (await res.json()) as Record<string, unknown>;
      expect(doc.issuer).to.equal(sim.url);
      expect(doc.authorization_endpoint).to.equal(`${sim.url}/oauth2/v2.0/authorize`);
      expect(doc.token_endpoint).to.equal(`${sim.url}/oauth2/v2.0/token`);
      expect(doc.revocation_endpoint).to.equal(`${sim.url}/oauth2/v2.0/revoke`);
      expect(doc.introspection_endpoint).to.equal(`${sim.url}/oauth2/v2.0/introspect`);
      expect(doc.scopes_supported).to.include.members([...ALL, 'openid', 'offline_access']);
      expect(doc.response_types_supported).to.deep.equal(['code']);
      expect(doc.grant_types_supported).to.have.members(['authorization_code', 'refresh_token', 'client_credentials']);
      expect(doc.code_challenge_methods_supported).to.deep.equal(['S256']);
      expect(doc.token_endpoint_auth_methods_supported).to.have.members(['client_secret_post', 'client_secret_basic']);
    });
  });

  describe('requests that cannot be sent back (RFC 6749 4.1.2.1)', () => {
    it('an unknown client gets an error page, never a redirect', async () => {
      const res = await open(params({ client_id: 'nobody' }));
      expect(res.status).to.equal(400);
      expect(res.headers.get('location')).to.equal(null);
      expect(res.headers.get('content-type')).to.match(/text\/html/);
      expect(await res.text()).to.include('Unknown app');
    });

    it('a missing client_id gets an error page', async () => {
      const res = await open(params({ client_id: undefined }));
      expect(res.status).to.equal(400);
      expect(res.headers.get('location')).to.equal(null);
    });

    for (const [what, uri] of [
      ['another host', 'https://evil.example/callback'],
      ['a longer path', `${DEMO_CLIENT.redirectUri}/more`],
      ['an extra query', `${DEMO_CLIENT.redirectUri}?x=1`],
      ['a trailing slash', `${DEMO_CLIENT.redirectUri}/`],
      ['other letter case', DEMO_CLIENT.redirectUri.toUpperCase()],
    ]) {
      it(`a redirect_uri with ${what} gets an error page, never a redirect`, async () => {
        const res = await open(params({ redirect_uri: uri }));
        expect(res.status).to.equal(400);
        expect(res.headers.get('location')).to.equal(null);
        const body = await res.text();
        expect(body).to.include('Wrong redirect address');
        expect(body).not.to.include('evil.example/callback?');
      });
    }

    it('a missing redirect_uri gets an error page (several are registered)', async () => {
      const res = await open(params({ redirect_uri: undefined }));
      expect(res.status).to.equal(400);
      expect(res.headers.get('location')).to.equal(null);
    });

    it('the fleet client (no redirect URIs) cannot start a browser flow', async () => {
      const res = await open(params({ client_id: 'fleet-client' }));
      expect(res.status).to.equal(400);
      expect(res.headers.get('location')).to.equal(null);
    });

    it('the checks come before sign-in: an anonymous visitor sees the page too', async () => {
      const res = await open(params({ redirect_uri: 'https://evil.example/cb' }), '');
      expect(res.status).to.equal(400);
    });
  });

  describe('requests sent back with an error', () => {
    it('refuses a request without PKCE', async () => {
      const back = errorBack(await open(params({ code_challenge: undefined, code_challenge_method: undefined })));
      expect(back.searchParams.get('error')).to.equal('invalid_request');
      expect(back.searchParams.get('state')).to.equal('st-123');
    });

    it('refuses a challenge without its method (no silent default)', async () => {
      const back = errorBack(await open(params({ code_challenge_method: undefined })));
      expect(back.searchParams.get('error')).to.equal('invalid_request');
    });

    it('refuses the `plain` method', async () => {
      const back = errorBack(await open(params({ code_challenge_method: 'plain' })));
      expect(back.searchParams.get('error')).to.equal('invalid_request');
      expect(back.searchParams.get('error_description')).to.match(/plain/);
      expect(back.searchParams.get('state')).to.equal('st-123');
    });

    it('refuses a malformed challenge', async () => {
      const back = errorBack(await open(params({ code_challenge: 'short' })));
      expect(back.searchParams.get('error')).to.equal('invalid_request');
    });

    it('requires state', async () => {
      const back = errorBack(await open(params({ state: undefined })));
      expect(back.searchParams.get('error')).to.equal('invalid_request');
      expect(back.searchParams.get('error_description')).to.match(/state/);
      expect(back.searchParams.has('state')).to.equal(false);
    });

    it('refuses response types other than code', async () => {
      expect(errorBack(await open(params({ response_type: 'token' }))).searchParams.get('error')).to.equal('unsupported_response_type');
      expect(errorBack(await open(params({ response_type: undefined }))).searchParams.get('error')).to.equal('invalid_request');
    });

    it('refuses unknown scopes', async () => {
      const back = errorBack(await open(params({ scope: 'read:status write:everything' })));
      expect(back.searchParams.get('error')).to.equal('invalid_scope');
      expect(back.searchParams.get('state')).to.equal('st-123');
    });

    it('refuses a request with no vehicle scope at all', async () => {
      expect(errorBack(await open(params({ scope: 'openid offline_access' }))).searchParams.get('error')).to.equal('invalid_scope');
      expect(errorBack(await open(params({ scope: undefined }))).searchParams.get('error')).to.equal('invalid_scope');
    });

    it('refuses a parameter sent twice', async () => {
      const url = `${authorizeUrl(sim.url, params())}&scope=command:lock`;
      const back = errorBack(await fetch(url, { headers: { cookie }, redirect: 'manual' }));
      expect(back.searchParams.get('error')).to.equal('invalid_request');
    });
  });

  describe('sign-in', () => {
    it('sends an anonymous owner to the login page, which returns to the same request', async () => {
      const query = params();
      const res = await open(query, '');
      expect(res.status).to.equal(302);
      const location = String(res.headers.get('location'));
      expect(location).to.match(/^\/owner\/login\?next=/);
      const next = new URL(location, sim.url).searchParams.get('next');
      expect(next).to.equal(`/oauth2/v2.0/authorize?${new URLSearchParams(query).toString()}`);

      const login = await fetch(`${sim.url}/owner/login`, {
        method: 'POST',
        body: new URLSearchParams({ email: 'owner@example.com', password: 'demo', next: String(next) }),
        redirect: 'manual',
      });
      expect(login.status).to.equal(303);
      expect(login.headers.get('location')).to.equal(next);
    });
  });

  describe('the consent page', () => {
    it('shows the app, the owner, each scope in plain words and each vehicle', async () => {
      const res = await open(params({ scope: 'access openid offline_access' }));
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-frame-options')).to.equal('DENY');
      expect(res.headers.get('cache-control')).to.equal('no-store');
      const html = await res.text();
      const form = parseConsentPage(html);
      expect(html).to.include('Node-RED Ford Connect (demo app)');
      expect(html).to.include('Alex Owner');
      expect(html).to.include('owner@example.com');
      // `access` is every catalogue scope; openid / offline_access are not shown.
      expect(form.scopes.map((s) => s.value)).to.deep.equal(ALL);
      expect(html).to.include('Lock and unlock the doors');
      for (const box of form.scopes) {
        expect(box.sensitive, box.value).to.equal(SENSITIVE.includes(box.value));
        expect(box.checked, box.value).to.equal(!SENSITIVE.includes(box.value));
      }
      const own = sim.world.fleet.ownedBy('owner-1').map((v) => v.id);
      expect(own.length).to.be.greaterThan(0);
      expect(form.vehicles.map((v) => v.value)).to.have.members(own);
      expect(form.vehicles.every((v) => v.checked)).to.equal(true);
      expect(html).to.include('name="decision" value="allow"');
      expect(html).to.include('name="decision" value="deny"');
      // The original request rides along in hidden fields.
      expect(html).to.include(`name="redirect_uri" value="${DEMO_CLIENT.redirectUri}"`);
      expect(html).to.include('name="state" value="st-123"');
    });

    it('offers only the scopes asked for', async () => {
      const form = parseConsentPage(await (await open(params({ scope: 'command:charge read:status' }))).text());
      expect(form.scopes.map((s) => s.value)).to.deep.equal(['read:status', 'command:charge']);
    });

    it('escapes what the request carries', async () => {
      const html = await (await open(params({ state: '"><script>alert(1)</script>' }))).text();
      expect(html).not.to.include('<script>alert(1)</script>');
    });
  });

  describe('the owner answers', () => {
    it('deny sends access_denied back with the state', async () => {
      const result = await authorize(sim.url, { scopes: ['read:status'], decision: 'deny', state: 'deny-state', cookie });
      expect(result.error).to.equal('access_denied');
      expect(result.state).to.equal('deny-state');
      expect(result.code).to.equal(undefined);
      expect(`${result.redirect.origin}${result.redirect.pathname}`).to.equal(DEMO_CLIENT.redirectUri);
    });

    it('allow sends a code back with the state echoed', async () => {
      const result = await authorize(sim.url, { scopes: ['read:status'], state: 'echo-me', cookie });
      expect(result.code).to.be.a('string').with.length.greaterThan(20);
      expect(result.state).to.equal('echo-me');
      expect(result.error).to.equal(undefined);
    });

    it('keeps a query the registered redirect URI already has', async () => {
      const withQuery = 'http://127.0.0.1:1880/cb?tenant=home';
      sim.world.store.clients.get('demo-client')?.redirectUris.push(withQuery);
      const result = await authorize(sim.url, { scopes: ['read:status'], redirectUri: withQuery, cookie });
      expect(result.redirect.searchParams.get('tenant')).to.equal('home');
      expect(result.code).to.be.a('string');
    });

    it('the token carries only the ticked scopes; sensitive ones stay off unless ticked', async () => {
      // Submit exactly what the page pre-ticks.
      const form = parseConsentPage(await (await open(params({ scope: 'access' }))).text());
      const preTicked = form.scopes.filter((s) => s.checked).map((s) => s.value);
      expect(preTicked).to.deep.equal(['read:status', 'command:horn-lights', 'command:charge']);
      const result = await authorize(sim.url, { scopes: ['access'], tick: preTicked, cookie });
      const token = await exchangeCode(sim.url, { code: String(result.code), verifier: result.verifier });
      expect(token.status).to.equal(200);
      expect(token.body.scope).to.equal('read:status command:horn-lights command:charge');
      const record = sim.world.store.accessTokens.get(String(token.body.access_token));
      expect(record?.scopes).to.deep.equal(['read:status', 'command:horn-lights', 'command:charge']);
    });

    it('a scope added to the form that was not requested is dropped', async () => {
      const result = await authorize(sim.url, { scopes: ['read:status'], tick: ['read:status', 'command:lock', 'command:remote-start'], cookie });
      const token = await exchangeCode(sim.url, { code: String(result.code), verifier: result.verifier });
      expect(token.body.scope).to.equal('read:status');
    });

    it('a vehicle of another owner slipped into the form is dropped', async () => {
      const theirs = sim.world.fleet.ownedBy('owner-2').find((v) => !v.ownerIds.includes('owner-1'));
      const mine = sim.world.fleet.ownedBy('owner-1')[0];
      const result = await authorize(sim.url, { scopes: ['read:status'], vehicles: [mine.id, ...(theirs ? [theirs.id] : [])], cookie });
      expect(result.code).to.be.a('string');
      // The newest grant is this consent's own.
      const grant = sim.world.store.activeGrant('owner-1', 'demo-client');
      expect(grant?.vehicleIds).to.deep.equal([mine.id]);
    });

    it('Allow with nothing ticked shows the page again with an error, and the request stays answerable', async () => {
      const page = await open(params({ scope: 'read:status command:lock' }));
      const form = parseConsentPage(await page.text());
      const post = (fields: [string, string][]) =>
        fetch(`${sim.url}/oauth2/v2.0/authorize`, { method: 'POST', headers: { cookie }, body: new URLSearchParams(fields), redirect: 'manual' });

      const none = await post([['consent_id', form.consentId], ['decision', 'allow'], ...form.vehicles.map((v): [string, string] => ['vehicle', v.value])]);
      expect(none.status).to.equal(400);
      expect(await none.text()).to.include('Tick at least one right');

      const noVehicle = await post([['consent_id', form.consentId], ['decision', 'allow'], ['scope', 'read:status']]);
      expect(noVehicle.status).to.equal(400);
      const again = parseConsentPage(await noVehicle.text());
      expect(again.scopes.find((s) => s.value === 'read:status')?.checked).to.equal(true);
      expect(again.scopes.find((s) => s.value === 'command:lock')?.checked).to.equal(false);

      const ok = await post([['consent_id', form.consentId], ['decision', 'allow'], ['scope', 'read:status'], ['vehicle', form.vehicles[0].value]]);
      expect(ok.status).to.equal(303);
      expect(new URL(String(ok.headers.get('location'))).searchParams.get('code')).to.be.a('string');
    });

    it('a consent answers once', async () => {
      const form = parseConsentPage(await (await open(params())).text());
      const body = () => new URLSearchParams([['consent_id', form.consentId], ['decision', 'allow'], ['scope', 'read:status'], ['vehicle', form.vehicles[0].value]]);
      const first = await fetch(`${sim.url}/oauth2/v2.0/authorize`, { method: 'POST', headers: { cookie }, body: body(), redirect: 'manual' });
      expect(first.status).to.equal(303);
      const second = await fetch(`${sim.url}/oauth2/v2.0/authorize`, { method: 'POST', headers: { cookie }, body: body(), redirect: 'manual' });
      expect(second.status).to.equal(400);
      expect(second.headers.get('location')).to.equal(null);
    });

    it('a consent is bound to the owner it was shown to', async () => {
      const form = parseConsentPage(await (await open(params())).text());
      const partner = await signIn(sim.url, 'partner@example.com');
      const body = new URLSearchParams([['consent_id', form.consentId], ['decision', 'allow'], ['scope', 'read:status'], ['vehicle', form.vehicles[0].value]]);
      const stolen = await fetch(`${sim.url}/oauth2/v2.0/authorize`, { method: 'POST', headers: { cookie: partner }, body, redirect: 'manual' });
      expect(stolen.status).to.equal(400);
      const anonymous = await fetch(`${sim.url}/oauth2/v2.0/authorize`, { method: 'POST', body, redirect: 'manual' });
      expect(anonymous.status).to.equal(400);
      expect(anonymous.headers.get('location')).to.equal(null);
    });

    it('an unknown consent id or a cross-site post is refused', async () => {
      const forged = await fetch(`${sim.url}/oauth2/v2.0/authorize`, {
        method: 'POST',
        headers: { cookie },
        body: new URLSearchParams({ consent_id: 'made-up', decision: 'allow', scope: 'read:status' }),
        redirect: 'manual',
      });
      expect(forged.status).to.equal(400);
      const form = parseConsentPage(await (await open(params())).text());
      const crossSite = await fetch(`${sim.url}/oauth2/v2.0/authorize`, {
        method: 'POST',
        headers: { cookie, origin: 'http://127.0.0.1:1' },
        body: new URLSearchParams({ consent_id: form.consentId, decision: 'allow', scope: 'read:status' }),
        redirect: 'manual',
      });
      expect(crossSite.status).to.equal(403);
    });
  });

  describe('alerts and audit', () => {
    it('a first connection raises app-connected, and each sensitive scope its own alert', async () => {
      const local = await withSimulator();
      try {
        await authorize(local.url, { scopes: ['access'], tick: ['read:status', 'read:location', 'command:lock'] });
        const kinds = local.world.alerts.forOwner('owner-1').map((a) => a.kind);
        expect(kinds.filter((k) => k === 'app-connected')).to.have.length(1);
        expect(kinds.filter((k) => k === 'sensitive-scope-granted')).to.have.length(2);
        const messages = local.world.alerts.forOwner('owner-1').map((a) => a.message).join('\n');
        expect(messages).to.include('read:location').and.to.include('command:lock');

        // A second authorization of the same app is a connection of its own: its own
        // app-connected, and an alert for each sensitive scope it grants.
        await authorize(local.url, { scopes: ['access'], tick: ['read:status', 'read:location', 'command:lock', 'command:remote-start'] });
        const after = local.world.alerts.forOwner('owner-1').map((a) => a.kind);
        expect(after.filter((k) => k === 'app-connected')).to.have.length(2);
        expect(after.filter((k) => k === 'sensitive-scope-granted')).to.have.length(5);

        const grants = local.world.audit.forOwner('owner-1').filter((e) => e.action === 'auth.grant');
        expect(grants).to.have.length(2);
        expect(grants.every((e) => e.outcome === 'ok' && e.clientId === 'demo-client' && e.detail.startsWith('Access granted (consent)'))).to.equal(true);
      } finally {
        await local.close();
      }
    });

    it('never writes a code or token into the audit log or alerts', async () => {
      const result = await authorize(sim.url, { scopes: ['read:status'], cookie });
      const token = await exchangeCode(sim.url, { code: String(result.code), verifier: result.verifier });
      const all = JSON.stringify([sim.world.audit.all(), sim.world.alerts.all()]);
      expect(all).not.to.include(String(result.code));
      expect(all).not.to.include(String(token.body.access_token));
      expect(all).not.to.include(String(token.body.refresh_token));
    });

    it("a second authorization with fewer scopes leaves the first one's tokens untouched", async () => {
      const first = await authorize(sim.url, { scopes: ['read:status', 'command:horn-lights'], cookie });
      const token = await exchangeCode(sim.url, { code: String(first.code), verifier: first.verifier });
      expect(token.body.scope).to.equal('read:status command:horn-lights');
      const firstGrant = sim.world.store.accessTokens.get(String(token.body.access_token))?.grantId;
      const vehiclesBefore = [...(sim.world.store.grants.get(String(firstGrant))?.vehicleIds ?? [])];

      const second = await authorize(sim.url, { scopes: ['read:status', 'command:horn-lights'], tick: ['read:status'], vehicles: [vehiclesBefore[0]], cookie });
      const secondToken = await exchangeCode(sim.url, { code: String(second.code), verifier: second.verifier });
      expect(secondToken.body.scope).to.equal('read:status');

      expect(sim.world.store.accessTokens.get(String(token.body.access_token))?.scopes).to.deep.equal(['read:status', 'command:horn-lights']);
      expect(sim.world.store.refreshTokens.get(String(token.body.refresh_token))?.scopes).to.deep.equal(['read:status', 'command:horn-lights']);
      const grant = sim.world.store.grants.get(String(firstGrant));
      expect(grant?.scopes).to.deep.equal(['read:status', 'command:horn-lights']);
      expect(grant?.vehicleIds).to.deep.equal(vehiclesBefore);
      expect(grant?.revokedAt).to.equal(undefined);
      expect(sim.world.store.accessTokens.get(String(secondToken.body.access_token))?.grantId).not.to.equal(firstGrant);
      const renewed = await refresh(sim.url, { refreshToken: String(token.body.refresh_token) });
      expect(renewed.status).to.equal(200);
      expect(renewed.body.scope).to.equal('read:status command:horn-lights');
    });

    it('a second car gets a second authorization: its own grant, tokens and Connected Apps entry, revocable on its own', async () => {
      const local = await withSimulator();
      try {
        const [truck, sky] = local.world.fleet.ownedBy('owner-1');
        const owner = await signIn(local.url);
        // Two Node-RED account nodes on one client id, one per vehicle.
        const forTruck = await connect(local.url, { scopes: ['read:status', 'command:lock'], vehicles: [truck.id], cookie: owner });
        const forSky = await connect(local.url, { scopes: ['read:status'], vehicles: [sky.id], cookie: owner });
        const grantOf = (accessToken: string) => local.world.store.grants.get(String(local.world.store.accessTokens.get(accessToken)?.grantId));
        const truckGrant = grantOf(forTruck.access_token);
        const skyGrant = grantOf(forSky.access_token);
        expect(truckGrant?.id).to.be.a('string').and.not.equal(skyGrant?.id);
        expect([truckGrant?.vehicleIds, truckGrant?.scopes]).to.deep.equal([[truck.id], ['read:status', 'command:lock']]);
        expect([skyGrant?.vehicleIds, skyGrant?.scopes]).to.deep.equal([[sky.id], ['read:status']]);
        expect(local.world.store.grantsOfOwner('owner-1').filter((g) => g.revokedAt === undefined)).to.have.length(2);

        const list = async (accessToken: string) => {
          const res = await fetch(`${local.url}/api/fordconnect/v3/vehicles`, { headers: { Authorization: `Bearer ${accessToken}`, 'Application-Id': 'afdc085b-377a-4351-b23e-5e1d35fb3700' } });
          return res.status === 200 ? ((await res.json()) as { vehicles: { vehicleId: string }[] }).vehicles.map((v) => v.vehicleId) : res.status;
        };
        expect(await list(forTruck.access_token)).to.deep.equal([truck.id]);
        expect(await list(forSky.access_token)).to.deep.equal([sky.id]);

        const page = await (await fetch(`${local.url}/owner/apps`, { headers: { cookie: owner } })).text();
        for (const g of [truckGrant, skyGrant]) expect(page).to.contain(`id="${String(g?.id)}"`);

        // Revoking the truck's entry on the Connected Apps page ends only that authorization.
        const revoked = await fetch(`${local.url}/owner/apps/${String(truckGrant?.id)}/revoke`, { method: 'POST', headers: { cookie: owner }, redirect: 'manual' });
        expect(revoked.status).to.equal(303);
        const told = local.world.alerts.forOwner('owner-1').find((a) => a.kind === 'app-revoked');
        expect(told?.message).to.match(/One authorization of .* was revoked.*1 other authorization of this app stays/);
        const logged = local.world.audit.forOwner('owner-1').find((e) => e.action === 'auth.revoked');
        expect(logged?.detail).to.contain('every token of this authorization stopped working').and.contain('1 other authorization of this app remains');
        expect(await list(forTruck.access_token)).to.equal(401);
        expect((await refresh(local.url, { refreshToken: forTruck.refresh_token })).body.error).to.equal('invalid_grant');
        expect(await list(forSky.access_token)).to.deep.equal([sky.id]);
        const renewed = await refresh(local.url, { refreshToken: forSky.refresh_token });
        expect(renewed.status).to.equal(200);
        expect(renewed.body.scope).to.equal('read:status');
      } finally {
        await local.close();
      }
    });

    it('an unexchanged code dies with its own grant only', async () => {
      const local = await withSimulator();
      try {
        const owner = await signIn(local.url);
        const first = await authorize(local.url, { scopes: ['read:status'], cookie: owner });
        const second = await authorize(local.url, { scopes: ['read:status'], cookie: owner });
        const grantOfCode = (code: string | undefined) => String(local.world.store.codes.get(String(code))?.grantId);
        expect(grantOfCode(first.code)).not.to.equal(grantOfCode(second.code));
        local.world.store.revokeGrant(grantOfCode(first.code), 'test');
        expect((await exchangeCode(local.url, { code: String(first.code), verifier: first.verifier })).body.error).to.equal('invalid_grant');
        expect((await exchangeCode(local.url, { code: String(second.code), verifier: second.verifier })).status).to.equal(200);
      } finally {
        await local.close();
      }
    });

    it('counts authorization requests', () => {
      expect(sim.world.counts.get('oauth.authorize')).to.be.greaterThan(10);
    });
  });
});
