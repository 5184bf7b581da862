import { opaqueToken } from './store';

/**
 * Authorization requests waiting for the owner's answer. The consent form
 * sends back only this one-time id: scopes, redirect and PKCE challenge come
 * from here, so editing the form's hidden fields cannot widen anything.
 */
export interface PendingConsent {
  id: string;
  ownerId: string;
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  codeChallengeMethod: string;
  /** Catalogue scopes the app asked for (after `access` was expanded). */
  scopes: string[];
  /** The `scope` parameter as the app sent it, for the page's hidden fields. */
  rawScope: string;
  /** Wall-clock ms: a person answers in real time, whatever the simulated clock does. */
  createdAt: number;
}

const TTL_MS = 10 * 60 * 1000;
const MAX_PENDING = 1000;

export class ConsentRequests {
  private readonly pending = new Map<string, PendingConsent>();

  create(request: Omit<PendingConsent, 'id' | 'createdAt'>): PendingConsent {
    this.prune();
    const consent: PendingConsent = { ...request, id: opaqueToken(24), createdAt: Date.now() };
    this.pending.set(consent.id, consent);
    return consent;
  }

  /** The live request, without using it up (the page may be shown again with an error). */
  get(id: string): PendingConsent | undefined {
    const consent = this.pending.get(id);
    if (consent && Date.now() - consent.createdAt > TTL_MS) {
      this.pending.delete(id);
      return undefined;
    }
    return consent;
  }

  /** Uses the request up: an answer counts once. */
  take(id: string): PendingConsent | undefined {
    const consent = this.get(id);
    this.pending.delete(id);
    return consent;
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, c] of this.pending) if (now - c.createdAt > TTL_MS) this.pending.delete(id);
    // Oldest first (Map keeps insertion order): a flood of abandoned requests cannot grow memory without bound.
    while (this.pending.size >= MAX_PENDING) {
      const oldest = this.pending.keys().next().value;
      if (oldest === undefined) break;
      this.pending.delete(oldest);
    }
  }
}
