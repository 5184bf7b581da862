import { html, page } from '../html';
import type { AlertKind } from './alerts';
import type { World } from '../world';
import { appName, timeCell } from './format';

const KINDS: Record<AlertKind, { label: string; warn: boolean }> = {
  'app-connected': { label: 'App connected', warn: false },
  'sensitive-scope-granted': { label: 'Sensitive right granted', warn: true },
  'app-revoked': { label: 'App revoked', warn: false },
  'refresh-token-reuse': { label: 'Refresh token reused: access cut off', warn: true },
  'ip-blocked': { label: 'Call from a blocked address', warn: true },
};

export function alertsPage(world: World, ownerId: string): string {
  const now = world.clock.now();
  const alerts = world.alerts.forOwner(ownerId);
  const body = html`
    <h1>Alerts</h1>
    <p class="muted">What you are told about: apps connecting, sensitive rights granted, apps revoked and suspicious use. Newest first.</p>
    <div class="card">
      ${alerts.length === 0
        ? html`<p>No alerts.</p>`
        : html`<table><tr><th>Time</th><th>What</th><th>App</th><th>Detail</th></tr>
          ${alerts.map((a) => {
            const kind = KINDS[a.kind] ?? { label: a.kind, warn: false };
            return html`<tr><td>${timeCell(a.time, now)}</td><td class="${kind.warn ? 'sensitive' : ''}">${kind.label}</td><td>${appName(world, a.clientId)}</td><td>${a.message}</td></tr>`;
          })}</table>`}
    </div>`;
  return page('Alerts', body, { nav: true });
}
