/**
 * Plays a demo owner's browser against the simulator over plain HTTP: sign
 * in, open an authorize URL an app built, tick scopes and vehicles on the
 * consent page, submit, and return where the provider redirects. `npm start`
 * uses it to connect the demo account; tests use it for every consent.
 */

export const DEMO_OWNER = { email: 'owner@example.com', password: 'demo' };

export interface ConsentOptions {
  email?: string;
  password?: string;
  /** Scopes to tick; default: what the page ticks by itself. */
  tick?: string[];
  /** Vehicle ids to tick; default: what the page ticks by itself (FordConnect Query: the first offered, it takes exactly one). */
  vehicles?: string[];
  /** FordConnect Query's data categories to tick; default: what the page ticks by itself. */
  categories?: string[];
  decision?: 'allow' | 'deny';
}

/** What the consent page offers: its one-time id and the checkbox values, ticked or not. */
export interface ConsentForm {
  consentId: string;
  scopes: { value: string; checked: boolean; sensitive: boolean }[];
  vehicles: { value: string; checked: boolean }[];
  /** FordConnect Query's consent: data categories instead of scopes. */
  categories: { value: string; checked: boolean; sensitive: boolean }[];
  html: string;
}

/** Signs an owner in; the `name=value` session cookie to send back. */
export async function signIn(simUrl: string, email = DEMO_OWNER.email, password = DEMO_OWNER.password): Promise<string> {
  const res = await fetch(`${simUrl}/owner/login`, {
    method: 'POST',
    body: new URLSearchParams({ email, password, next: '/owner/apps' }),
    redirect: 'manual',
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ford_sim_session='));
  if (res.status !== 303 || !cookie) throw new Error(`sign-in as ${email} failed: HTTP ${res.status}`);
  return cookie.split(';')[0];
}

function unescapeHtml(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export function parseConsentPage(html: string): ConsentForm {
  const consentId = /name="consent_id" value="([^"]*)"/.exec(html)?.[1];
  if (!consentId) throw new Error('no consent_id on the page');
  const boxes = (name: string) =>
    [...html.matchAll(new RegExp(`<input type="(?:checkbox|radio)" name="${name}" value="([^"]*)"( checked)?>([\\s\\S]*?)</label>`, 'g'))].map((m) => ({
      value: unescapeHtml(m[1]),
      checked: m[2] !== undefined,
      sensitive: m[3].includes('class="sensitive"'),
    }));
  return { consentId: unescapeHtml(consentId), scopes: boxes('scope'), vehicles: boxes('vehicle').map(({ value, checked }) => ({ value, checked })), categories: boxes('category'), html };
}

/** Signs in, answers the consent page for `authorizeUrl`, and returns the redirect location. */
export async function consentAt(authorizeUrl: string, options: ConsentOptions = {}): Promise<string> {
  const base = new URL(authorizeUrl).origin;
  const cookie = await signIn(base, options.email, options.password);
  let pageRes = await fetch(authorizeUrl, { headers: { cookie }, redirect: 'manual' });
  // max_age asked for a fresh sign-in: the browser signs in on the login page (done above), then goes back.
  const login = pageRes.status === 302 ? new URL(pageRes.headers.get('location') ?? '', base) : undefined;
  if (login?.pathname === '/owner/login' && login.searchParams.get('next')?.startsWith('/')) {
    pageRes = await fetch(new URL(login.searchParams.get('next') as string, base), { headers: { cookie }, redirect: 'manual' });
  }
  if (pageRes.status !== 200) {
    const location = pageRes.headers.get('location');
    if (location) return location;
    throw new Error(`consent page answered ${pageRes.status}: ${await pageRes.text()}`);
  }
  const consent = parseConsentPage(await pageRes.text());
  const form = new URLSearchParams({ consent_id: consent.consentId, decision: options.decision ?? 'allow' });
  for (const s of consent.scopes) if (options.tick ? options.tick.includes(s.value) : s.checked) form.append('scope', s.value);
  for (const c of consent.categories) if (options.categories ? options.categories.includes(c.value) : c.checked) form.append('category', c.value);
  const oneVehicle = consent.categories.length > 0;
  const vehicles = consent.vehicles.filter((v) => (options.vehicles ? options.vehicles.includes(v.value) : v.checked));
  if (oneVehicle && vehicles.length === 0 && consent.vehicles.length > 0 && !options.vehicles) vehicles.push(consent.vehicles[0]);
  for (const v of oneVehicle ? vehicles.slice(0, 1) : vehicles) form.append('vehicle', v.value);
  // The form goes back where the page came from (/oauth2/v2.0/authorize, or FordConnect Query's /fcon-public/v1/auth/init).
  const submit = await fetch(`${base}${new URL(pageRes.url || authorizeUrl).pathname}`, { method: 'POST', headers: { cookie, origin: base }, body: form, redirect: 'manual' });
  const location = submit.headers.get('location');
  if (!location) throw new Error(`consent submit answered ${submit.status} without a redirect: ${await submit.text()}`);
  return location;
}
