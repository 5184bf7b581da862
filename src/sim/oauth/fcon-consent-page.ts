import { html, page } from '../html';
import { maskId } from '../owner/format';
import type { ConsentVehicle } from './consent-page';
import type { PendingConsent } from './consent-requests';
import { FCON_CATEGORIES } from './fcon-categories';
import type { Owner } from './store';

export const FCON_INIT_PATH = '/fcon-public/v1/auth/init';

/**
 * FordConnect Query's consent screen: one authorization is one vehicle, so
 * the vehicles are radio buttons (none preselected when there is a choice),
 * and the data categories are checkboxes, location left unticked.
 */
export interface FconConsentView {
  consent: PendingConsent;
  appName: string;
  owner: Owner;
  vehicles: ConsentVehicle[];
  /** After a refused submit: the owner's own choices are kept. */
  chosen?: { categories: string[]; vehicle?: string };
  error?: string;
}

export function fconConsentPage(view: FconConsentView): string {
  const { consent, owner } = view;
  const categoryTicked = (name: string, sensitive: boolean): boolean => (view.chosen ? view.chosen.categories.includes(name) : !sensitive);
  const only = view.vehicles.length === 1 ? view.vehicles[0].id : undefined;
  const vehicleChosen = (id: string): boolean => (view.chosen ? view.chosen.vehicle === id : only === id);
  const returnTo = new URL(consent.redirectUri);

  const categories = FCON_CATEGORIES.map(
    (c) => html`<div class="scope"><label>
      <input type="checkbox" name="category" value="${c.name}"${categoryTicked(c.name, c.sensitive) ? html` checked` : ''}>
      <strong>${c.label}</strong> <span class="muted">${c.grants}</span>${c.sensitive ? html` <span class="sensitive">sensitive</span>` : ''}
    </label></div>`,
  );

  const vehicles = view.vehicles.length
    ? view.vehicles.map(
        (v) => html`<div class="scope"><label>
          <input type="radio" name="vehicle" value="${v.id}"${vehicleChosen(v.id) ? html` checked` : ''}>
          ${v.nickName} <span class="muted">${v.modelName}, VIN ${maskId(v.vin)}</span>
        </label></div>`,
      )
    : html`<p class="error">There is no vehicle on this account to share.</p>`;

  return page(
    'Share one vehicle?',
    html`<div class="card">
      <h1>Allow ${view.appName} to read one vehicle's data?</h1>
      <p>Signed in as <strong>${owner.name}</strong> (${owner.email}).</p>
      ${view.error ? html`<p class="error">${view.error}</p>` : ''}
      <form method="post" action="${FCON_INIT_PATH}">
        <input type="hidden" name="consent_id" value="${consent.id}">
        <h2>Which vehicle</h2>
        <p class="muted">One authorization shares one vehicle. To share another, connect the app again.</p>
        ${vehicles}
        <h2>Which data</h2>
        <p class="muted">Untick anything you do not want to share. Data marked <span class="sensitive">sensitive</span> stays off unless you tick it.</p>
        ${categories}
        <p class="muted">Read-only: this app cannot lock, start or otherwise command the vehicle. After you answer you go back to <code>${returnTo.origin}</code>; you can revoke this at any time under Connected apps.</p>
        <p><button type="submit" name="decision" value="allow">Allow</button>
           <button class="secondary" type="submit" name="decision" value="deny">Deny</button></p>
      </form>
    </div>`,
  );
}
