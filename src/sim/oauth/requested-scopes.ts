import { allScopeNames, FORD_ACCESS_SCOPE, isKnownScope, OIDC_SCOPES } from './scopes';

/**
 * Reading the `scope` parameter the way Ford's server does, into our
 * catalogue: `access` (Ford's one real scope) and, Azure B2C style, the
 * client's own id mean "every catalogue scope"; `openid` and
 * `offline_access` are accepted and carry no vehicle right.
 */
export type ScopeReading =
  | { ok: true; scopes: string[]; wantsEverything: boolean }
  | { ok: false; unknown: string[] };

export function readRequestedScopes(raw: string | undefined, clientId: string): ScopeReading {
  const words = (raw ?? '').split(/\s+/).filter((w) => w.length > 0);
  const scopes = new Set<string>();
  const unknown: string[] = [];
  let wantsEverything = false;
  for (const word of words) {
    if (word === FORD_ACCESS_SCOPE || word === clientId) {
      wantsEverything = true;
      for (const name of allScopeNames()) scopes.add(name);
    } else if (isKnownScope(word)) scopes.add(word);
    else if (!OIDC_SCOPES.includes(word)) unknown.push(word);
  }
  if (unknown.length > 0) return { ok: false, unknown };
  // Catalogue order, so pages and token responses read the same every time.
  return { ok: true, scopes: allScopeNames().filter((s) => scopes.has(s)), wantsEverything };
}
