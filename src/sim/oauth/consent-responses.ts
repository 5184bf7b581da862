import type { Response } from 'express';
import { appName } from '../owner/format';
import type { World } from '../world';
import { authorizeErrorPage, type ConsentVehicle } from './consent-page';
import type { PendingConsent } from './consent-requests';
import type { Owner } from './store';

/** What every consent page is drawn from; each surface adds its own choices (scopes, or one vehicle and categories). */
export interface ConsentBase {
  consent: PendingConsent;
  appName: string;
  owner: Owner;
  vehicles: ConsentVehicle[];
}

/** Consent pages are personal and must not be framed (clickjacking the Allow button). */
export function pageHeaders(res: Response): void {
  res.set('Cache-Control', 'no-store');
  res.set('X-Frame-Options', 'DENY');
  res.set('Content-Security-Policy', "frame-ancestors 'none'");
}

/** The error page and the consent page of one authorize surface, drawn by `render`. */
export function consentResponses<Extra>(world: World, render: (view: ConsentBase & Extra) => string) {
  const sendPage = (res: Response, status: number, title: string, message: string): void => {
    pageHeaders(res);
    res.status(status).type('html').send(authorizeErrorPage(title, message));
  };
  const showConsent = (res: Response, status: number, consent: PendingConsent, extra: Extra = {} as Extra): void => {
    const owner = world.store.owners.get(consent.ownerId);
    if (!owner) return sendPage(res, 400, 'Not signed in', 'Sign in again and restart from the app.');
    const vehicles = world.fleet.ownedBy(owner.id).map((v) => ({ id: v.id, vin: v.vin, nickName: v.nickName, modelName: v.modelName }));
    pageHeaders(res);
    res.status(status).type('html').send(render({ consent, owner, vehicles, appName: appName(world, consent.clientId), ...extra }));
  };
  return { sendPage, showConsent };
}
