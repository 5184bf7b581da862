import { expect } from 'chai';
import type { RunningSimulator } from '../../src/sim';
import { MAX_CONSENT_FIELDS } from '../../src/sim/server';
import { addOwner, addVehicles } from '../helpers/fleet';
import { DEMO_CLIENT, authorizeUrl, exchangeCode, parseConsentPage, pkcePair, signIn } from '../helpers/oauth-flow';
import { withSimulator } from '../helpers/sim';

/** One checkbox a vehicle: far more fields than body-parser's default limit of 1000. */
const VEHICLES = 5000;

describe('sim oauth: a consent form for an owner with a large fleet', function () {
  this.timeout(30000);
  let sim: RunningSimulator;
  let owner: { id: string; email: string; password: string };
  let vehicleIds: string[];
  let cookie: string;

  before(async () => {
    sim = await withSimulator();
    owner = addOwner(sim.world, 'owner-many-cars');
    vehicleIds = addVehicles(sim.world, owner.id, VEHICLES);
    cookie = await signIn(sim.url, owner.email, owner.password);
  });
  after(() => sim.close());

  /** Opens the consent page and returns the form a browser would send back: hidden fields, every box ticked, Allow. */
  async function consentForm(pkce = pkcePair()): Promise<URLSearchParams> {
    const page = await fetch(
      authorizeUrl(sim.url, {
        client_id: DEMO_CLIENT.clientId,
        redirect_uri: DEMO_CLIENT.redirectUri,
        response_type: 'code',
        scope: 'access',
        state: 'big-fleet',
        code_challenge: pkce.challenge,
        code_challenge_method: 'S256',
      }),
      { headers: { cookie }, redirect: 'manual' },
    );
    expect(page.status).to.equal(200);
    const html = await page.text();
    const consent = parseConsentPage(html);
    expect(consent.vehicles.map((v) => v.value)).to.have.members(vehicleIds);
    const form = new URLSearchParams();
    for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.append(name, value);
    for (const s of consent.scopes) form.append('scope', s.value);
    for (const v of consent.vehicles) form.append('vehicle', v.value);
    form.append('decision', 'allow');
    return form;
  }

  function post(form: URLSearchParams): Promise<Response> {
    return fetch(`${sim.url}/oauth2/v2.0/authorize`, { method: 'POST', headers: { cookie, origin: sim.url }, body: form, redirect: 'manual' });
  }

  it(`accepts a form with one field for each of ${VEHICLES} vehicles, and the grant covers them all`, async () => {
    const pkce = pkcePair();
    const form = await consentForm(pkce);
    expect([...form.keys()].length).to.be.greaterThan(VEHICLES);
    const res = await post(form);
    expect(res.status).to.equal(303);
    const back = new URL(String(res.headers.get('location')));
    expect(back.searchParams.get('state')).to.equal('big-fleet');
    const code = back.searchParams.get('code');
    expect(code).to.be.a('string');

    const token = await exchangeCode(sim.url, { code: String(code), verifier: pkce.verifier });
    expect(token.status).to.equal(200);
    const grant = sim.world.store.grants.get(String(sim.world.store.accessTokens.get(String(token.body.access_token))?.grantId));
    expect(grant?.ownerId).to.equal(owner.id);
    expect(grant?.vehicleIds).to.have.length(VEHICLES);
    expect(grant?.vehicleIds).to.have.members(vehicleIds);
  });

  it('still bounds a form: beyond the field limit the answer is 413 and nothing is granted', async () => {
    const form = await consentForm();
    const consentId = String(form.get('consent_id'));
    while ([...form.keys()].length <= MAX_CONSENT_FIELDS) form.append('vehicle', vehicleIds[0]);
    const grantsBefore = sim.world.store.grantsOfOwner(owner.id).length;
    const res = await post(form);
    expect(res.status).to.equal(413);
    expect(await res.json()).to.deep.equal({ error: 'invalid_request', error_description: 'too many parameters' });
    expect(sim.world.store.grantsOfOwner(owner.id)).to.have.length(grantsBefore);

    // The request was not used up: the owner's real answer still goes through.
    const again = new URLSearchParams({ consent_id: consentId, decision: 'allow', scope: 'read:status', vehicle: vehicleIds[0] });
    const ok = await post(again);
    expect(ok.status).to.equal(303);
    expect(new URL(String(ok.headers.get('location'))).searchParams.get('code')).to.be.a('string');
  });
});
