import { html, page } from '../html';
import type { SimAuditEntry } from './audit-log';
import type { World } from '../world';
import { appName, redact, timeCell, vehicleLabel } from './format';

export interface AuditFilter {
  vehicle?: string;
  app?: string;
  outcome?: string;
}

const OUTCOMES: SimAuditEntry['outcome'][] = ['ok', 'denied', 'failed', 'rate-limited'];
/** Enough for a person to read; the JSON view in /sim/audit has everything. */
const PAGE_LIMIT = 500;

/** Only string query values count; anything else (arrays, objects) is ignored, not trusted. */
export function auditFilterFrom(query: Record<string, unknown>): AuditFilter {
  const pick = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  return { vehicle: pick(query.vehicle), app: pick(query.app), outcome: pick(query.outcome) };
}

function option(value: string, label: string, selected: string | undefined) {
  return html`<option value="${value}"${value === (selected ?? '') ? html` selected` : ''}>${label}</option>`;
}

export function auditPage(world: World, ownerId: string, filter: AuditFilter): string {
  const now = world.clock.now();
  const all = world.audit.forOwner(ownerId, Number.POSITIVE_INFINITY);
  const matching = all.filter(
    (e) => (!filter.vehicle || e.vehicleId === filter.vehicle) && (!filter.app || e.clientId === filter.app) && (!filter.outcome || e.outcome === filter.outcome),
  );
  const shown = matching.slice(0, PAGE_LIMIT);
  const vehicles = world.fleet.ownedBy(ownerId);
  const apps = [...new Set([...world.store.grantsOfOwner(ownerId).map((g) => g.clientId), ...all.map((e) => e.clientId)])];

  const body = html`
    <h1>Audit log</h1>
    <p class="muted">Every read of your vehicles' data, every command and every change to an app's access, newest first.</p>
    <form method="get" action="/owner/audit" class="card">
      <label>Vehicle <select name="vehicle">${option('', 'All vehicles', filter.vehicle)}${vehicles.map((v) => option(v.id, vehicleLabel(world, v.id), filter.vehicle))}</select></label>
      <label>App <select name="app">${option('', 'All apps', filter.app)}${apps.map((c) => option(c, appName(world, c), filter.app))}</select></label>
      <label>Outcome <select name="outcome">${option('', 'Any outcome', filter.outcome)}${OUTCOMES.map((o) => option(o, o, filter.outcome))}</select></label>
      <button class="secondary" type="submit">Filter</button> <a href="/owner/audit">Clear</a>
    </form>
    <div class="card">
      ${shown.length === 0
        ? html`<p>No records${filter.vehicle || filter.app || filter.outcome ? ' match this filter' : ' yet'}.</p>`
        : html`<table>
          <tr><th>Time</th><th>App</th><th>Vehicle</th><th>Action</th><th>Outcome</th><th>Detail</th><th>IP</th></tr>
          ${shown.map(
            (e) => html`<tr>
              <td>${timeCell(e.time, now)}</td>
              <td>${appName(world, e.clientId)}</td>
              <td>${vehicleLabel(world, e.vehicleId)}</td>
              <td><code>${e.action}</code></td>
              <td class="${e.outcome}">${e.outcome}${e.httpStatus ? html` <span class="muted">(${e.httpStatus})</span>` : ''}</td>
              <td>${redact(e.detail)}</td>
              <td>${e.ip ?? ''}</td></tr>`,
          )}</table>`}
      ${matching.length > shown.length ? html`<p class="muted">Showing the newest ${shown.length} of ${matching.length} records.</p>` : ''}
    </div>`;
  return page('Audit log', body, { nav: true });
}
