/**
 * Plays the owner's browser on the simulator: sign in, open an authorize URL,
 * tick scopes on the consent page, submit, and return where the provider
 * redirects (the client's redirect URI with code and state, or an error).
 */
export interface ConsentOptions {
  email?: string;
  password?: string;
  /** Scopes to tick; default: what the page ticks by itself. */
  tick?: string[];
  decision?: 'allow' | 'deny';
}

function hiddenFields(page: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]] = decode(m[2]);
  return fields;
}

function checkboxes(page: string, name: string): { value: string; checked: boolean }[] {
  return [...page.matchAll(new RegExp(`<input type="checkbox" name="${name}" value="([^"]+)"( checked)?>`, 'g'))].map((m) => ({ value: decode(m[1]), checked: Boolean(m[2]) }));
}

function decode(v: string): string {
  return v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export async function signIn(baseUrl: string, email = 'owner@example.com', password = 'demo'): Promise<string> {
  const res = await fetch(`${baseUrl}/owner/login`, { method: 'POST', redirect: 'manual', body: new URLSearchParams({ email, password, next: '/owner/apps' }) });
  const cookie = res.headers.get('set-cookie');
  if (res.status !== 303 || !cookie) throw new Error(`sign-in failed with ${res.status}`);
  return cookie.split(';')[0];
}

export async function consentAt(authorizeUrl: string, options: ConsentOptions = {}): Promise<string> {
  const base = new URL(authorizeUrl).origin;
  const cookie = await signIn(base, options.email, options.password);
  const pageRes = await fetch(authorizeUrl, { headers: { cookie }, redirect: 'manual' });
  if (pageRes.status !== 200) {
    const location = pageRes.headers.get('location');
    if (location) return location;
    throw new Error(`consent page answered ${pageRes.status}: ${await pageRes.text()}`);
  }
  const page = await pageRes.text();
  const form = new URLSearchParams(hiddenFields(page));
  const scopes = checkboxes(page, 'scope');
  for (const s of scopes) if (options.tick ? options.tick.includes(s.value) : s.checked) form.append('scope', s.value);
  for (const v of checkboxes(page, 'vehicle')) if (v.checked) form.append('vehicle', v.value);
  form.set('decision', options.decision ?? 'allow');
  const submit = await fetch(`${base}/oauth2/v2.0/authorize`, { method: 'POST', headers: { cookie }, body: form, redirect: 'manual' });
  const location = submit.headers.get('location');
  if (!location) throw new Error(`consent submit answered ${submit.status} without a redirect: ${await submit.text()}`);
  return location;
}
