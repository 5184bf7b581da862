import { html, page, type SafeHtml } from '../html';
import type { Grant } from '../oauth/store';
import { scopeInfo, isSensitiveScope } from '../oauth/scopes';
import { categoryInfo } from '../oauth/fcon-categories';
import type { World } from '../world';
import { appName, maskId, timeCell, vehicleLabel } from './format';

/** A rejected allow-list edit: shown beside its form with what the owner typed. */
export interface AllowListError {
  grantId: string;
  text: string;
  message: string;
}

export type AppsNotice = 'revoked' | 'saved';

const NOTICES: Record<AppsNotice, string> = {
  revoked: 'Access revoked. That authorization can no longer reach your vehicles; its tokens stopped working at once.',
  saved: 'IP allow-list saved.',
};

export function isAppsNotice(value: unknown): value is AppsNotice {
  return value === 'revoked' || value === 'saved';
}

function scopeList(scopes: string[]): SafeHtml {
  if (scopes.length === 0) return html`<p class="muted">No scopes.</p>`;
  return html`<ul>${scopes.map((name) => {
    const info = scopeInfo(name);
    const mark = isSensitiveScope(name) ? html` <span class="sensitive" title="Sensitive: this right matters for your safety or privacy">⚠ sensitive</span>` : '';
    return html`<li><code>${name}</code>${mark}<br><span class="muted">${info?.grants ?? 'Not a vehicle scope'}</span></li>`;
  })}</ul>`;
}

/** A FordConnect Query authorization's data categories, as the owner ticked them. */
function categoryList(categories: string[]): SafeHtml {
  return html`<ul>${categories.map((name) => {
    const info = categoryInfo(name);
    const mark = info?.sensitive ? html` <span class="sensitive" title="Sensitive: this data matters for your safety or privacy">⚠ sensitive</span>` : '';
    return html`<li><strong>${info?.label ?? name}</strong> <code>${name}</code>${mark}<br><span class="muted">${info?.grants ?? ''}</span></li>`;
  })}</ul>`;
}

function vehicleList(world: World, vehicleIds: string[]): SafeHtml {
  if (vehicleIds.length === 0) return html`<span class="muted">no vehicle</span>`;
  return html`${vehicleIds.map((id, i) => html`${i > 0 ? ', ' : ''}${vehicleLabel(world, id)}`)}`;
}

function liveGrantCard(world: World, grant: Grant, now: number, error?: AllowListError): SafeHtml {
  const base = `/owner/apps/${encodeURIComponent(grant.id)}`;
  const allowText = error ? error.text : grant.ipAllowList.join('\n');
  return html`<div class="card" id="${grant.id}">
    <h2>${appName(world, grant.clientId)}</h2>
    <p class="muted">App id <code>${grant.clientId}</code></p>
    <table>
      <tr><th>Connected</th><td>${timeCell(grant.createdAt, now)}</td></tr>
      <tr><th>Last access</th><td>${timeCell(grant.lastAccessAt, now)}</td></tr>
      <tr><th>Vehicles</th><td>${vehicleList(world, grant.vehicleIds)}</td></tr>
      ${grant.api === 'fcon-query' ? html`<tr><th>Data</th><td>${categoryList(grant.categories ?? [])}<span class="muted">FordConnect Query: read-only, this one vehicle</span></td></tr>` : ''}
      <tr><th>Can</th><td>${scopeList(grant.scopes)}</td></tr>
      <tr><th>IP allow-list</th><td>
        <p>${grant.ipAllowList.length === 0 ? html`<span class="muted">Any address</span>` : grant.ipAllowList.map((e, i) => html`${i > 0 ? ', ' : ''}<code>${e}</code>`)}</p>
        ${error ? html`<p class="error">${error.message}</p>` : ''}
        <form method="post" action="${base}/ip-allow-list">
          <label>Addresses or CIDR ranges this app may call from, one a line (empty = any address)
            <textarea name="ipAllowList" rows="3" cols="40" spellcheck="false">${allowText}</textarea></label>
          <button class="secondary" type="submit">Save allow-list</button>
        </form>
      </td></tr>
    </table>
    <form method="post" action="${base}/revoke" style="margin-top:12px">
      <button class="danger" type="submit">Revoke now</button>
      <span class="muted">Ends this authorization and every token issued under it, immediately; the app's other authorizations, if any, stay.</span>
    </form>
  </div>`;
}

function revokedRow(world: World, grant: Grant, now: number): SafeHtml {
  return html`<tr><td>${appName(world, grant.clientId)}</td>
    <td>${grant.scopes.map((s, i) => html`${i > 0 ? ', ' : ''}<code>${s}</code>`)}</td>
    <td>${grant.vehicleIds.map((id, i) => html`${i > 0 ? ', ' : ''}${maskId(world.fleet.get(id)?.vin ?? id)}`)}</td>
    <td>${timeCell(grant.revokedAt, now)}</td>
    <td>${grant.revokedReason ?? ''}</td></tr>`;
}

export function appsPage(world: World, ownerId: string, options: { notice?: AppsNotice; error?: AllowListError } = {}): string {
  const now = world.clock.now();
  const owner = world.store.owners.get(ownerId);
  const grants = world.store.grantsOfOwner(ownerId);
  const live = grants.filter((g) => g.revokedAt === undefined).sort((a, b) => b.createdAt - a.createdAt);
  const revoked = grants.filter((g) => g.revokedAt !== undefined).sort((a, b) => (b.revokedAt ?? 0) - (a.revokedAt ?? 0));
  const body = html`
    <h1>Connected apps</h1>
    <p class="muted">Signed in as ${owner?.name ?? ownerId}. Every app below acts on your vehicles only with the rights you ticked; revoke one and it stops at once.</p>
    ${options.notice ? html`<p class="card ok" role="status">${NOTICES[options.notice]}</p>` : ''}
    ${live.length === 0 ? html`<div class="card"><p>No app is connected to your account.</p></div>` : live.map((g) => liveGrantCard(world, g, now, options.error?.grantId === g.id ? options.error : undefined))}
    <div class="card"><h2>Recently revoked</h2>
      ${revoked.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<table><tr><th>App</th><th>Scopes it had</th><th>Vehicles</th><th>Revoked</th><th>Why</th></tr>${revoked.map((g) => revokedRow(world, g, now))}</table>`}
    </div>`;
  return page('Connected apps', body, { nav: true });
}
