import { parseConsentPage, signIn } from './oauth-flow';

/**
 * Plays the owner's browser for an authorize URL the kit built: sign in, open
 * it, tick scopes on the consent page, submit, and return where the provider
 * redirects (the client's redirect URI with code and state, or an error).
 */
export interface ConsentOptions {
  email?: string;
  password?: string;
  /** Scopes to tick; default: what the page ticks by itself. */
  tick?: string[];
  decision?: 'allow' | 'deny';
}

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
  for (const v of consent.vehicles) if (v.checked) form.append('vehicle', v.value);
  const submit = await fetch(`${base}/oauth2/v2.0/authorize`, { method: 'POST', headers: { cookie, origin: base }, body: form, redirect: 'manual' });
  const location = submit.headers.get('location');
  if (!location) throw new Error(`consent submit answered ${submit.status} without a redirect: ${await submit.text()}`);
  return location;
}
