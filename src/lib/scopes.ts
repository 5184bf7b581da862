/**
 * The kit's scope catalogue (DESIGN.md "Scopes"). A node acts only when its
 * scope is ticked in its ford-account AND present in the granted token.
 */
export const SCOPE_NAMES = ['read:status', 'read:location', 'command:lock', 'command:remote-start', 'command:horn-lights', 'command:charge'] as const;

export type Scope = (typeof SCOPE_NAMES)[number];

export interface ScopeDescription {
  scope: Scope;
  label: string;
  sensitive: boolean;
}

export const SCOPE_CATALOGUE: readonly ScopeDescription[] = [
  { scope: 'read:status', label: 'Read status: lock state, fuel / charge, range, odometer, tyres, doors, ignition', sensitive: false },
  { scope: 'read:location', label: 'Read location: GPS position, heading, speed', sensitive: true },
  { scope: 'command:lock', label: 'Lock and unlock', sensitive: true },
  { scope: 'command:remote-start', label: 'Remote start and stop', sensitive: true },
  { scope: 'command:horn-lights', label: 'Horn and lights', sensitive: false },
  { scope: 'command:charge', label: 'Start and stop charging', sensitive: false },
];

/** Ford's real APIs grant one all-or-nothing scope; it means "whatever the owner ticked". */
export const FORD_ALL_ACCESS_SCOPES = ['access', 'openid', 'offline_access'];

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPE_NAMES as readonly string[]).includes(value);
}

export function isSensitive(scope: Scope): boolean {
  return SCOPE_CATALOGUE.some((s) => s.scope === scope && s.sensitive);
}

/** Splits an OAuth `scope` value (space separated) into its parts. */
export function parseScopeString(value: unknown): string[] {
  return typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : [];
}

/**
 * What the kit may do: ticked ∩ granted. A provider that answers with its
 * single all-access scope (Ford) grants exactly what was ticked; a provider
 * that answers with no scope at all is taken at the ticked set too (RFC 6749
 * 5.1: an omitted scope means the requested one).
 */
export function effectiveScopes(ticked: readonly string[], grantedByToken: readonly string[] | undefined): Scope[] {
  const wanted = ticked.filter(isScope);
  if (grantedByToken === undefined || grantedByToken.length === 0) return wanted;
  const granular = grantedByToken.filter(isScope);
  if (granular.length === 0 && grantedByToken.some((s) => FORD_ALL_ACCESS_SCOPES.includes(s) || s.endsWith('/access'))) return wanted;
  return wanted.filter((s) => granular.includes(s));
}
