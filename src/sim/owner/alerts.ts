import type { SimClock } from '../clock';

export type AlertKind = 'app-connected' | 'sensitive-scope-granted' | 'app-revoked' | 'refresh-token-reuse' | 'ip-blocked';

/** What the owner is told about: apps connecting, sensitive rights granted, suspicious use. */
export interface Alert {
  seq: number;
  time: number;
  ownerId: string;
  clientId: string;
  kind: AlertKind;
  message: string;
}

export class Alerts {
  private readonly items: Alert[] = [];
  private seq = 0;

  constructor(private readonly clock: SimClock) {}

  raise(ownerId: string, clientId: string, kind: AlertKind, message: string): Alert {
    const alert: Alert = { seq: ++this.seq, time: this.clock.now(), ownerId, clientId, kind, message };
    this.items.push(alert);
    return alert;
  }

  /** Newest first. */
  forOwner(ownerId: string): Alert[] {
    return this.items.filter((a) => a.ownerId === ownerId).reverse();
  }

  all(): readonly Alert[] {
    return this.items;
  }
}
