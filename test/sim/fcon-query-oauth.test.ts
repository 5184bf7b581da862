import { expect } from 'chai';
import { describe as describeSim } from '../../src/cli/ford-sim';
import type { RunningSimulator } from '../../src/sim';
import type { Vehicle } from '../../src/sim/vehicles/vehicle';
import { DEMO_CLIENT, FLEET_CLIENT, connect, exchangeCode, signIn } from '../helpers/oauth-flow';
import { mintToken, withSimulator } from '../helpers/sim';
import {
  ALL_CATEGORIES,
  FCON,
  exchangeQueryCode,
  hexState,
  initUrl,
  parseQueryConsent,
  queryAuthorize,
  queryConnect,
  queryGet,
  queryToken,
  refreshQuery,
} from '../helpers/fcon-query';
import { assertQueryError } from '../helpers/fcon-query-shapes';

const DAY_SECONDS = 24 * 3600;

describe('sim: FordConnect Query authorization (auth/init and the B2C token endpoint)', () => {
  let sim: RunningSimulator;
  let machE: Vehicle;
  let f150: Vehicle;

  before(async () => {
    // A non-default access token life: the Query token endpoint must use the simulator's option.
    sim = await withSimulator({ accessTokenSeconds: 900 });
    const owned = sim.world.fleet.ownedBy('owner-1');
    machE = owned.find((v) => v.engineType === 'BEV') as Vehicle;
    f150 = owned.find((v) => v.engineType === 'ICE') as Vehicle;
  });
  after(() => sim.close());

  const baseParams = (extra: Record<string, string> = {}): Record<string, string> => ({
    response_type: 'code',
    client_id: DEMO_CLIENT.clientId,
    redirect_uri: DEMO_CLIENT.redirectUri,
    state: hexState(),
    scope: `${DEMO_CLIENT.clientId} offline_access openid`,
    ...extra,
  });

  const grantOf = (token: string) => {
    const record = sim.world.store.accessTokens.get(token);
    return record ? sim.world.store.grants.get(record.grantId) : undefined;
  };

  describe('the whole flow', () => {
    it('init → sign-in → consent for exactly one vehicle → code with the same short hex state → tokens that read that vehicle', async () => {
      const cookie = await signIn(sim.url);
      const state = 'a1b2c3d4e5f60718';
      const page = await fetch(initUrl(sim.url, baseParams({ state })), { headers: { cookie }, redirect: 'manual' });
      expect(page.status).to.equal(200);
      expect(page.headers.get('content-type')).to.match(/text\/html/);
      expect(page.headers.get('x-frame-options')).to.equal('DENY');
      const form = parseQueryConsent(await page.text());
      // One vehicle per authorization: radio buttons, and no choice made for an owner with three cars.
      expect(form.vehicles.map((v) => v.type)).to.deep.equal(['radio', 'radio', 'radio']);
      expect(form.vehicles.map((v) => v.value)).to.have.members(sim.world.fleet.ownedBy('owner-1').map((v) => v.id));
      expect(form.vehicles.some((v) => v.checked)).to.equal(false);
      // Location is sensitive and stays unticked until the owner opts in.
      expect(form.categories.map((c) => [c.value, c.checked, c.sensitive])).to.deep.equal([
        ['status', true, false],
        ['location', false, true],
        ['evData', true, false],
        ['health', true, false],
      ]);

      const answer = new URLSearchParams({ consent_id: form.consentId, decision: 'allow', vehicle: machE.id });
      for (const c of ['status', 'evData']) answer.append('category', c);
      const back = await fetch(`${sim.url}${FCON.init}`, { method: 'POST', headers: { cookie, origin: sim.url }, body: answer, redirect: 'manual' });
      expect(back.status).to.equal(303);
      const redirect = new URL(back.headers.get('location') as string);
      expect(`${redirect.origin}${redirect.pathname}`).to.equal(DEMO_CLIENT.redirectUri);
      expect(redirect.searchParams.get('state')).to.equal(state);
      const code = redirect.searchParams.get('code') as string;
      expect(code).to.be.a('string').and.not.empty;

      const tokens = await exchangeQueryCode(sim.url, code);
      expect(tokens.status).to.equal(200);
      expect(tokens.headers.get('cache-control')).to.equal('no-store');
      expect(tokens.body).to.have.keys(['access_token', 'token_type', 'expires_in', 'refresh_token']);
      expect(tokens.body.token_type).to.equal('Bearer');
      expect(tokens.body.expires_in).to.equal(900);

      const grant = grantOf(tokens.body.access_token as string);
      expect(grant).to.include({ api: 'fcon-query', flow: 'authorization_code', ownerId: 'owner-1', clientId: DEMO_CLIENT.clientId });
      expect(grant?.vehicleIds).to.deep.equal([machE.id]);
      expect(grant?.categories).to.deep.equal(['status', 'evData']);
      expect(grant?.scopes).to.deep.equal(['read:status']);

      const garage = await queryGet(sim.url, '/garage', tokens.body.access_token);
      expect(garage.status).to.equal(200);
      expect(garage.json.vin).to.equal(machE.vin);

      // The test control shows it as a Query authorization, categories and all.
      const view = (await (await fetch(`${sim.url}/sim/grants/${grant?.id}`)).json()) as Record<string, unknown>;
      expect(view).to.include({ api: 'fcon-query', flow: 'authorization_code' });
      expect(view.categories).to.deep.equal(['status', 'evData']);
      expect(view.vehicleIds).to.deep.equal([machE.id]);
    });

    it('sends a signed-out owner through the simulator\'s own sign-in and back to the consent page', async () => {
      const url = initUrl(sim.url, baseParams());
      const first = await fetch(url, { redirect: 'manual' });
      expect(first.status).to.equal(302);
      const login = new URL(first.headers.get('location') as string, sim.url);
      expect(login.pathname).to.equal('/owner/login');
      const next = login.searchParams.get('next') as string;
      expect(next.startsWith(FCON.init)).to.equal(true);
      const signedIn = await fetch(`${sim.url}/owner/login`, { method: 'POST', body: new URLSearchParams({ email: 'owner@example.com', password: 'demo', next }), redirect: 'manual' });
      expect(signedIn.status).to.equal(303);
      expect(signedIn.headers.get('location')).to.equal(next);
      const cookie = (signedIn.headers.getSetCookie()[0] ?? '').split(';')[0];
      const page = await fetch(new URL(next, sim.url), { headers: { cookie }, redirect: 'manual' });
      expect(page.status).to.equal(200);
      expect(parseQueryConsent(await page.text()).vehicles).to.have.length(3);
    });

    it('preselects the vehicle when the owner has only one', async () => {
      const page = await fetch(initUrl(sim.url, baseParams()), { headers: { cookie: await signIn(sim.url, 'partner@example.com') }, redirect: 'manual' });
      const form = parseQueryConsent(await page.text());
      expect(form.vehicles).to.deep.equal([{ value: machE.id, checked: true, type: 'radio' }]);
    });
  });

  describe('what Ford\'s login proxy refuses: a plain page, never a redirect', () => {
    const refusedStates: [string, string | undefined][] = [
      ['17 hex characters', 'a1b2c3d4e5f607189'],
      ['upper-case hex', 'A1B2C3D4'],
      ['not hex', 'state-xyz'],
      ['a JWT-like value', 'eyJhbGciOiJIUzI1NiJ9.e30.sig'],
      ['an empty state', ''],
      ['no state at all', undefined],
    ];
    for (const [what, state] of refusedStates) {
      it(`refuses ${what}`, async () => {
        const params = baseParams();
        if (state === undefined) delete params.state;
        else params.state = state;
        const res = await fetch(initUrl(sim.url, params), { headers: { cookie: await signIn(sim.url) }, redirect: 'manual' });
        expect(res.status).to.equal(400);
        expect(res.headers.get('location')).to.equal(null);
        expect(res.headers.get('content-type')).to.match(/text\/html/);
        const text = await res.text();
        expect(text).to.include('16').and.not.include('consent_id');
      });
    }

    it('refuses an unregistered redirect address (exact match) and an unknown app the same way', async () => {
      const cookie = await signIn(sim.url);
      for (const params of [baseParams({ redirect_uri: `${DEMO_CLIENT.redirectUri}/` }), baseParams({ redirect_uri: 'https://evil.example/cb' }), baseParams({ client_id: 'nobody' })]) {
        const res = await fetch(initUrl(sim.url, params), { headers: { cookie }, redirect: 'manual' });
        expect(res.status).to.equal(400);
        expect(res.headers.get('location')).to.equal(null);
      }
    });

    it('sends other mistakes back to the app once client and redirect are known good', async () => {
      const cookie = await signIn(sim.url);
      const state = hexState();
      const cases: [Record<string, string>, string][] = [
        [baseParams({ state, response_type: 'token' }), 'unsupported_response_type'],
        [baseParams({ state, code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }), 'invalid_request'],
        [baseParams({ state, code_challenge_method: 'S256' }), 'invalid_request'],
      ];
      for (const [params, error] of cases) {
        const res = await fetch(initUrl(sim.url, params), { headers: { cookie }, redirect: 'manual' });
        expect(res.status).to.equal(302);
        const to = new URL(res.headers.get('location') as string);
        expect(to.searchParams.get('error')).to.equal(error);
        expect(to.searchParams.get('state')).to.equal(state);
      }
    });
  });

  describe('the owner\'s answer', () => {
    it('Deny: back to the app with error=access_denied and the state, no grant, an audit line', async () => {
      const grantsBefore = sim.world.store.grants.size;
      const auditBefore = sim.world.audit.all().length;
      const state = hexState();
      const result = await queryAuthorize(sim.url, { vehicle: machE.id, decision: 'deny', state });
      expect(result.status).to.equal(303);
      expect(result.error).to.equal('access_denied');
      expect(result.state).to.equal(state);
      expect(result.code).to.equal(undefined);
      expect(sim.world.store.grants.size).to.equal(grantsBefore);
      const entries = sim.world.audit.all().slice(auditBefore);
      expect(entries.map((e) => [e.action, e.outcome])).to.deep.equal([['auth.grant', 'denied']]);
    });

    it('asks again unless exactly one of the owner\'s own vehicles and at least one category are picked', async () => {
      const partnerOnly = sim.world.fleet.ownedBy('owner-fleet')[0].id;
      const tries = [
        { categories: ['status'] },
        { vehicle: machE.id, extraVehicles: [f150.id], categories: ['status'] },
        { vehicle: partnerOnly, categories: ['status'] },
        { vehicle: machE.id, categories: [] },
      ];
      for (const t of tries) {
        const result = await queryAuthorize(sim.url, t);
        expect(result.status, JSON.stringify(t)).to.equal(400);
        expect(result.redirect).to.equal(undefined);
        expect(result.html).to.include('class="error"').and.include('consent_id');
      }
    });

    it('drops categories the page does not offer', async () => {
      const tokens = await queryConnect(sim.url, { vehicle: f150.id, categories: ['status', 'commands', 'read:location'] });
      expect(grantOf(tokens.access_token)?.categories).to.deep.equal(['status']);
    });

    it('records the grant like any other: Connected Apps page, audit, alerts (sensitive location)', async () => {
      const alertsBefore = sim.world.alerts.all().length;
      const auditBefore = sim.world.audit.all().length;
      const tokens = await queryConnect(sim.url, { vehicle: f150.id, categories: ALL_CATEGORIES });
      const grant = grantOf(tokens.access_token);
      expect(grant?.scopes).to.deep.equal(['read:status', 'read:location']);
      const alerts = sim.world.alerts.all().slice(alertsBefore);
      expect(alerts.map((a) => a.kind)).to.deep.equal(['app-connected', 'sensitive-scope-granted']);
      const granted = sim.world.audit.all().slice(auditBefore).find((e) => e.action === 'auth.grant');
      expect(granted?.outcome).to.equal('ok');
      expect(granted?.detail).to.include('FordConnect Query').and.include('location');

      const cookie = await signIn(sim.url);
      const apps = await (await fetch(`${sim.url}/owner/apps`, { headers: { cookie } })).text();
      const start = apps.indexOf(`id="${grant?.id}"`);
      const card = apps.slice(start, apps.indexOf('<div class="card"', start));
      expect(card).to.include('FordConnect Query').and.include('Work Truck').and.include('<code>evData</code>').and.include('<code>location</code>');

      // Revoke on the page: the Query token stops at once.
      const revoke = await fetch(`${sim.url}/owner/apps/${grant?.id}/revoke`, { method: 'POST', headers: { cookie, origin: sim.url }, redirect: 'manual' });
      expect(revoke.status).to.equal(303);
      const after = await queryGet(sim.url, '/telemetry', tokens.access_token);
      expect(after.status).to.equal(401);
      assertQueryError(after.json, 401);
    });
  });

  describe('tokens', () => {
    it('PKCE is accepted, not required: a challenge sent at init must be matched', async () => {
      const withPkce = await queryAuthorize(sim.url, { vehicle: machE.id, pkce: true });
      const wrong = await exchangeQueryCode(sim.url, withPkce.code as string, { code_verifier: 'w'.repeat(43) });
      expect(wrong.status).to.equal(400);
      expect(wrong.body.error).to.equal('invalid_grant');
      // The code is burnt by the failed attempt, as on the catalogue endpoint.
      const late = await exchangeQueryCode(sim.url, withPkce.code as string, { code_verifier: withPkce.verifier as string });
      expect(late.status).to.equal(400);

      const again = await queryAuthorize(sim.url, { vehicle: machE.id, pkce: true });
      const missing = await exchangeQueryCode(sim.url, again.code as string);
      expect(missing.status).to.equal(400);
      expect(missing.body.error).to.equal('invalid_grant');

      const good = await queryAuthorize(sim.url, { vehicle: machE.id, pkce: true });
      expect((await exchangeQueryCode(sim.url, good.code as string, { code_verifier: good.verifier as string })).status).to.equal(200);

      const none = await queryAuthorize(sim.url, { vehicle: machE.id });
      expect((await exchangeQueryCode(sim.url, none.code as string)).status).to.equal(200);
    });

    it('rotates refresh tokens, and a rotated one coming back ends the grant (reuse detection)', async () => {
      const first = await queryConnect(sim.url, { vehicle: machE.id });
      const auditBefore = sim.world.audit.all().length;
      const second = await refreshQuery(sim.url, first.refresh_token);
      expect(second.status).to.equal(200);
      expect(second.body).to.have.keys(['access_token', 'token_type', 'expires_in', 'refresh_token']);
      expect(second.body.refresh_token).to.not.equal(first.refresh_token);
      expect(second.body.expires_in).to.equal(900);
      expect((await queryGet(sim.url, '/telemetry', second.body.access_token)).status).to.equal(200);

      const replay = await refreshQuery(sim.url, first.refresh_token);
      expect(replay.status).to.equal(400);
      expect(replay.body.error).to.equal('invalid_grant');
      const grant = grantOf(second.body.access_token as string);
      expect(grant?.revokedReason).to.equal('refresh token reused');
      expect((await queryGet(sim.url, '/telemetry', second.body.access_token)).status).to.equal(401);
      expect((await refreshQuery(sim.url, second.body.refresh_token as string)).status).to.equal(400);
      expect(sim.world.alerts.all().at(-1)?.kind).to.equal('refresh-token-reuse');
      const refreshes = sim.world.audit.all().slice(auditBefore).filter((e) => e.action === 'token.refresh');
      expect(refreshes.map((e) => e.outcome)).to.deep.equal(['ok', 'failed', 'failed']);
    });

    it('a code used twice revokes what was issued from it', async () => {
      const auth = await queryAuthorize(sim.url, { vehicle: f150.id });
      const first = await exchangeQueryCode(sim.url, auth.code as string);
      expect(first.status).to.equal(200);
      const second = await exchangeQueryCode(sim.url, auth.code as string);
      expect(second.status).to.equal(400);
      expect(second.body.error).to.equal('invalid_grant');
      expect((await queryGet(sim.url, '/garage', first.body.access_token)).status).to.equal(401);
    });

    it('answers `scope=openid offline_access` without the client id with an id_token only, and that id_token is the bearer', async () => {
      const auth = await queryAuthorize(sim.url, { vehicle: machE.id });
      const res = await exchangeQueryCode(sim.url, auth.code as string, { scope: 'openid offline_access' });
      expect(res.status).to.equal(200);
      expect(res.body).to.not.have.property('access_token');
      expect(res.body).to.include.keys(['id_token', 'token_type', 'id_token_expires_in', 'refresh_token']);
      expect(res.body.id_token_expires_in).to.equal(900);
      const idToken = res.body.id_token as string;
      const parts = idToken.split('.');
      expect(parts).to.have.length(3);
      const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
      expect(claims).to.include({ aud: DEMO_CLIENT.clientId, sub: 'owner-1', tfp: FCON.policy });
      expect(Number(claims.exp) - Number(claims.iat)).to.equal(900);

      const telemetry = await queryGet(sim.url, '/telemetry', idToken);
      expect(telemetry.status).to.equal(200);
      expect(telemetry.json.vin).to.equal(machE.vin);

      // Refreshing the same way keeps the shape, and rotates.
      const next = await refreshQuery(sim.url, res.body.refresh_token as string, 'openid offline_access');
      expect(next.status).to.equal(200);
      expect(next.body).to.not.have.property('access_token');
      expect(next.body.id_token).to.be.a('string').and.not.equal(idToken);
      expect(next.body.refresh_token).to.not.equal(res.body.refresh_token);
      expect((await queryGet(sim.url, '/garage', next.body.id_token)).status).to.equal(200);
    });

    it('needs the B2C policy in ?p= (any case); another or none is an OAuth error', async () => {
      const before = sim.world.counts.get('fcon.token.wrong-policy');
      for (const policy of [null, 'B2C_1A_signup_signin_common', '']) {
        const auth = await queryAuthorize(sim.url, { vehicle: machE.id });
        const refused = await queryToken(sim.url, { grant_type: 'authorization_code', code: auth.code as string, redirect_uri: DEMO_CLIENT.redirectUri }, { policy });
        expect(refused.status, String(policy)).to.equal(400);
        expect(refused.body.error).to.equal('invalid_request');
        expect(refused.body.error_description).to.include(FCON.policy);
        // The code was not spent by the refusal.
        const ok = await queryToken(sim.url, { grant_type: 'authorization_code', code: auth.code as string, redirect_uri: DEMO_CLIENT.redirectUri }, { policy: 'b2c_1a_fcon_authorize' });
        expect(ok.status).to.equal(200);
      }
      expect(sim.world.counts.get('fcon.token.wrong-policy') - before).to.equal(3);
    });

    it('refuses grants it does not serve and clients that do not authenticate', async () => {
      const cc = await queryToken(sim.url, { grant_type: 'client_credentials' }, { clientId: FLEET_CLIENT.clientId, clientSecret: FLEET_CLIENT.clientSecret });
      expect(cc.status).to.equal(400);
      expect(cc.body.error).to.equal('unsupported_grant_type');
      const auth = await queryAuthorize(sim.url, { vehicle: machE.id });
      const badSecret = await queryToken(sim.url, { grant_type: 'authorization_code', code: auth.code as string, redirect_uri: DEMO_CLIENT.redirectUri }, { clientSecret: 'wrong' });
      expect(badSecret.status).to.equal(401);
      expect(badSecret.body.error).to.equal('invalid_client');
    });

    it('keeps the two APIs apart: codes, refresh tokens and bearers of one are unknown to the other', async () => {
      // A Query code at the catalogue token endpoint.
      const auth = await queryAuthorize(sim.url, { vehicle: machE.id });
      const crossed = await exchangeCode(sim.url, { code: auth.code as string });
      expect(crossed.status).to.equal(400);
      expect(crossed.body.error).to.equal('invalid_grant');
      // …and it still works where it belongs: the mistake did not burn it.
      const query = await exchangeQueryCode(sim.url, auth.code as string);
      expect(query.status).to.equal(200);

      // A catalogue (FordConnect v1) authorization at the Query token endpoint and API.
      const v1 = await connect(sim.url, { scopes: ['read:status'], vehicles: [machE.id] });
      const refreshed = await refreshQuery(sim.url, v1.refresh_token);
      expect(refreshed.status).to.equal(400);
      expect(refreshed.body.error).to.equal('invalid_grant');
      expect(sim.world.store.refreshTokens.get(v1.refresh_token)?.rotatedAt, 'not rotated by the wrong endpoint').to.equal(undefined);
      const onQuery = await queryGet(sim.url, '/telemetry', v1.access_token);
      expect(onQuery.status).to.equal(401);
      assertQueryError(onQuery.json, 401, /not issued for this API/);
      expect(sim.world.audit.all().at(-1)).to.include({ action: 'status.read', outcome: 'denied', httpStatus: 401, clientId: DEMO_CLIENT.clientId });

      // A Query bearer on FordConnect v1.
      const onV1 = await fetch(`${sim.url}/api/fordconnect/v3/vehicles/${machE.id}`, {
        headers: { authorization: `Bearer ${query.body.access_token}`, 'application-id': 'afdc085b-377a-4351-b23e-5e1d35fb3700' },
      });
      expect(onV1.status).to.equal(401);
      const minted = mintToken(sim, 'owner-1', ['read:status'], { vehicleIds: [machE.id], lifetimeSeconds: DAY_SECONDS });
      expect((await queryGet(sim.url, '/garage', minted.token)).status).to.equal(401);
    });

    it('counts each step under its own key', async () => {
      const before = { ...sim.world.counts.snapshot() };
      const tokens = await queryConnect(sim.url, { vehicle: machE.id });
      await refreshQuery(sim.url, tokens.refresh_token);
      const now = sim.world.counts.snapshot();
      const delta = (key: string): number => (now[key] ?? 0) - (before[key] ?? 0);
      expect(delta('fcon.auth.init')).to.equal(1);
      expect(delta('fcon.auth.consent')).to.equal(1);
      expect(delta('fcon.token.authorization_code')).to.equal(1);
      expect(delta('fcon.token.refresh_token')).to.equal(1);
      expect(delta('oauth.token.authorization_code')).to.equal(0);
      expect(delta('oauth.authorize')).to.equal(0);
    });
  });

  it('the ford-sim banner prints the Query URLs', () => {
    const text = describeSim(sim);
    expect(text).to.include(`${sim.url}/fcon-query/v1/telemetry`).and.include(`${sim.url}${FCON.init}`).and.include(`${sim.url}${FCON.tokenPath}?p=${FCON.policy}`);
  });

  it('RFC 8414 metadata names the Query endpoints too', async () => {
    const doc = (await (await fetch(`${sim.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(doc.fcon_query_authorization_endpoint).to.equal(`${sim.url}${FCON.init}`);
    expect(doc.fcon_query_token_endpoint).to.equal(`${sim.url}${FCON.tokenPath}?p=${FCON.policy}`);
    expect(doc.fcon_query_api).to.equal(`${sim.url}/fcon-query`);
    expect(doc.token_endpoint).to.equal(`${sim.url}/oauth2/v2.0/token`);
  });
});
