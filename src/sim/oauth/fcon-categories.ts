import type { Grant, OAuthStore } from './store';

/**
 * FordConnect Query's data categories: what the owner ticks on its consent
 * page (ford-api.md: "the data categories ticked decide which metrics come
 * back"). `evData` is Ford's own name (its 403 says "Required scopes missing:
 * evData"); the others are the simulator's. Each maps onto a catalogue scope,
 * so the Connected Apps page, alerts and the audit log treat a Query grant
 * like any other.
 */
export interface CategoryInfo {
  name: FconCategory;
  label: string;
  /** Plain words for the consent page. */
  grants: string;
  /** Unticked on the consent page until the owner opts in. */
  sensitive: boolean;
  scope: 'read:status' | 'read:location';
}

export const FCON_CATEGORY_NAMES = ['status', 'location', 'evData', 'health'] as const;
export type FconCategory = (typeof FCON_CATEGORY_NAMES)[number];

export const FCON_CATEGORIES: readonly CategoryInfo[] = [
  { name: 'status', label: 'Vehicle status', grants: 'Locks, doors, windows, tyres, fuel, odometer, ignition, alarm, remote start, 12 V battery', sensitive: false, scope: 'read:status' },
  { name: 'location', label: 'Location', grants: "The vehicle's GPS position, heading and speed", sensitive: true, scope: 'read:location' },
  { name: 'evData', label: 'EV data', grants: 'State of charge, electric range, plug and charging state, charge schedules and departure times', sensitive: false, scope: 'read:status' },
  { name: 'health', label: 'Vehicle health', grants: 'Health alerts (tyre pressure, low fuel or charge, 12 V battery)', sensitive: false, scope: 'read:status' },
];

/** The B2C policy of FordConnect Query's token endpoint, and the API's base path. */
export const FCON_POLICY = 'B2C_1A_FCON_AUTHORIZE';
export const FCON_QUERY_BASE = '/fcon-query';

export function isCategory(value: unknown): value is FconCategory {
  return typeof value === 'string' && (FCON_CATEGORY_NAMES as readonly string[]).includes(value);
}

export function categoryInfo(name: string): CategoryInfo | undefined {
  return FCON_CATEGORIES.find((c) => c.name === name);
}

/** The catalogue scopes a set of categories amounts to, in catalogue order. */
export function scopesOfCategories(categories: readonly string[]): string[] {
  const scopes = new Set(FCON_CATEGORIES.filter((c) => categories.includes(c.name)).map((c) => c.scope));
  return (['read:status', 'read:location'] as const).filter((s) => scopes.has(s));
}

export function hasCategory(grant: Grant, category: FconCategory): boolean {
  return grant.categories?.includes(category) === true;
}

/**
 * A FordConnect Query authorization: exactly one vehicle and the ticked
 * categories, a grant of its own beside any other (one per consent).
 */
export function createQueryGrant(store: OAuthStore, ownerId: string, clientId: string, vehicleId: string, categories: readonly string[], authTime?: number): Grant {
  const ticked = FCON_CATEGORY_NAMES.filter((c) => categories.includes(c));
  if (ticked.length === 0) throw new RangeError('a FordConnect Query grant needs at least one data category');
  const grant = store.createGrant(ownerId, clientId, scopesOfCategories(ticked), [vehicleId], 'authorization_code', authTime);
  grant.api = 'fcon-query';
  grant.categories = [...ticked];
  return grant;
}
