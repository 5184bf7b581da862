import { html, type SafeHtml } from '../html';
import type { World } from '../world';

/** Small view helpers shared by the owner pages: times, masked vehicles, app names. */

/** Readable UTC time from the simulated clock, e.g. `2026-01-02 03:04:05 UTC`. */
export function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "5 min ago" relative to simulated now; the absolute time stays in the markup. */
export function ago(ms: number, now: number): string {
  const s = Math.round((now - ms) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

export function timeCell(ms: number | undefined, now: number, never = 'never'): SafeHtml {
  if (ms === undefined) return html`<span class="muted">${never}</span>`;
  return html`<time datetime="${new Date(ms).toISOString()}">${utc(ms)}</time> <span class="muted">(${ago(ms, now)})</span>`;
}

/** Only the last 4 characters of a VIN or id ever reach a page. */
export function maskId(id: string | undefined): string {
  return id ? `…${id.slice(-4)}` : '';
}

/** Nickname and masked VIN; a vehicle no longer in the fleet shows its masked id. */
export function vehicleLabel(world: World, vehicleId: string | undefined): string {
  if (!vehicleId) return '';
  const v = world.fleet.get(vehicleId);
  return v ? `${v.nickName} (VIN ${maskId(v.vin)})` : `vehicle ${maskId(vehicleId)}`;
}

export function appName(world: World, clientId: string): string {
  return world.store.clients.get(clientId)?.name ?? clientId;
}

const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
const QUERY_SECRETS = /([?&](?:code|access_token|refresh_token|id_token|client_secret|code_verifier|token)=)[^&#\s]+/gi;

/** Defence in depth: audit details are free text written by many routes; no credential may reach a page. */
export function redact(text: string): string {
  return text.replace(BEARER, '$1 [redacted]').replace(QUERY_SECRETS, '$1[redacted]');
}
