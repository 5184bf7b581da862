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
 * What the kit may do: ticked ∩ granted. Ford's real APIs grant one
 * all-or-nothing scope (`access`, `…/fordconnect/access`, or the client id on
 * the B2C tenant): for those providers, and only when the caller says so
 * (`allAccess`), it means exactly what the owner ticked. A provider that
 * omits `scope` granted what was requested (RFC 6749 5.1).
 */
export function effectiveScopes(ticked: readonly string[], grantedByToken: readonly string[] | undefined, allAccess: (scope: string) => boolean = () => false): Scope[] {
  const wanted = ticked.filter(isScope);
  if (grantedByToken === undefined || grantedByToken.length === 0) return wanted;
  if (grantedByToken.some(allAccess)) return wanted;
  return wanted.filter((s) => grantedByToken.includes(s));
}
