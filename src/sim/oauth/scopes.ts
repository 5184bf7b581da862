/**
 * The simulator's scope catalogue: the granular scopes owners ask for
 * (DESIGN.md "Scopes"). The consent page, the token endpoint and every API
 * route read it from here.
 */
export interface ScopeInfo {
  name: string;
  /** Plain words for the consent page. */
  grants: string;
  sensitive: boolean;
}

export const SCOPES: readonly ScopeInfo[] = [
  { name: 'read:status', grants: 'See lock state, fuel or charge level, range, odometer, tyre pressure, doors, ignition and basic health', sensitive: false },
  { name: 'read:location', grants: "See the vehicle's GPS position, heading and speed", sensitive: true },
  { name: 'command:lock', grants: 'Lock and unlock the doors', sensitive: true },
  { name: 'command:remote-start', grants: 'Start and stop the engine remotely', sensitive: true },
  { name: 'command:horn-lights', grants: 'Sound the horn and flash the lights', sensitive: false },
  { name: 'command:charge', grants: 'Start and stop charging', sensitive: false },
];

/** Ford's real API grants one all-or-nothing scope; accepted and widened to every scope. */
export const FORD_ACCESS_SCOPE = 'access';
export const OIDC_SCOPES = ['openid', 'offline_access'];

const byName = new Map(SCOPES.map((s) => [s.name, s]));

export function isKnownScope(name: string): boolean {
  return byName.has(name);
}

export function isSensitiveScope(name: string): boolean {
  return byName.get(name)?.sensitive === true;
}

export function scopeInfo(name: string): ScopeInfo | undefined {
  return byName.get(name);
}

export function allScopeNames(): string[] {
  return SCOPES.map((s) => s.name);
}
