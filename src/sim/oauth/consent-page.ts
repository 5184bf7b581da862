import { html, page } from '../html';
import { maskId } from '../owner/format';
import type { PendingConsent } from './consent-requests';
import { scopeInfo } from './scopes';
import type { Owner } from './store';

/**
 * The consent screen: one checkbox per requested scope in plain words,
 * sensitive ones marked and left unticked so the owner opts in to them, one
 * checkbox per vehicle, Allow and Deny.
 */

export interface ConsentVehicle {
  id: string;
  vin: string;
  nickName: string;
  modelName: string;
}

export interface ConsentView {
  consent: PendingConsent;
  appName: string;
  owner: Owner;
  vehicles: ConsentVehicle[];
  /** After a refused submit: the owner's own ticks are kept. */
  ticked?: { scopes: string[]; vehicles: string[] };
  error?: string;
}

export function consentPage(view: ConsentView): string {
  const { consent, owner } = view;
  const scopeTicked = (name: string, sensitive: boolean): boolean => (view.ticked ? view.ticked.scopes.includes(name) : !sensitive);
  const vehicleTicked = (id: string): boolean => (view.ticked ? view.ticked.vehicles.includes(id) : true);
  const returnTo = new URL(consent.redirectUri);

  const scopes = consent.scopes.map((name) => {
    const info = scopeInfo(name);
    const sensitive = info?.sensitive === true;
    return html`<div class="scope"><label>
      <input type="checkbox" name="scope" value="${name}"${scopeTicked(name, sensitive) ? html` checked` : ''}>
      <strong>${info?.grants ?? name}</strong> <code>${name}</code>${sensitive ? html` <span class="sensitive">sensitive</span>` : ''}
    </label></div>`;
  });

  const vehicles = view.vehicles.length
    ? view.vehicles.map(
        (v) => html`<div class="scope"><label>
          <input type="checkbox" name="vehicle" value="${v.id}"${vehicleTicked(v.id) ? html` checked` : ''}>
          ${v.nickName} <span class="muted">${v.modelName}, VIN ${maskId(v.vin)}</span>
        </label></div>`,
      )
    : html`<p class="error">There is no vehicle on this account to share.</p>`;

  return page(
    'Allow access?',
    html`<div class="card">
      <h1>Allow ${view.appName} to reach your vehicles?</h1>
      <p>Signed in as <strong>${owner.name}</strong> (${owner.email}).</p>
      ${view.error ? html`<p class="error">${view.error}</p>` : ''}
      <form method="post" action="/oauth2/v2.0/authorize">
        <input type="hidden" name="consent_id" value="${consent.id}">
        <input type="hidden" name="client_id" value="${consent.clientId}">
        <input type="hidden" name="redirect_uri" value="${consent.redirectUri}">
        <input type="hidden" name="response_type" value="code">
        <input type="hidden" name="state" value="${consent.state}">
        <input type="hidden" name="code_challenge" value="${consent.codeChallenge}">
        <input type="hidden" name="code_challenge_method" value="${consent.codeChallengeMethod}">
        <input type="hidden" name="requested_scope" value="${consent.rawScope}">
        <h2>What it may do</h2>
        <p class="muted">Untick anything you do not want to share. Rights marked <span class="sensitive">sensitive</span> stay off unless you tick them.</p>
        ${scopes}
        <h2>Which vehicles</h2>
        ${vehicles}
        <p class="muted">After you answer you go back to <code>${returnTo.origin}</code>. You can revoke this at any time under Connected apps.</p>
        <p><button type="submit" name="decision" value="allow">Allow</button>
           <button class="secondary" type="submit" name="decision" value="deny">Deny</button></p>
      </form>
    </div>`,
  );
}

/** A request we cannot send back to the app: shown here, never redirected (RFC 6749 4.1.2.1). */
export function authorizeErrorPage(title: string, message: string): string {
  return page(
    title,
    html`<div class="card"><h1>${title}</h1><p class="error">${message}</p>
      <p class="muted">Nothing was shared. Go back to the app and start the connection again; if this keeps happening, its settings (client id, redirect address) need fixing.</p></div>`,
  );
}
