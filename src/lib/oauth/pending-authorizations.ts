/**
 * Authorizations started from the editor and not finished yet, keyed by their
 * `state`: single use, short-lived, bound to one account. A callback whose
 * state is unknown, used or expired is refused (CSRF and replay protection).
 */
export interface PendingAuthorization<T> {
  accountId: string;
  codeVerifier: string;
  /** What the callback needs to finish (client, endpoints). */
  context: T;
  expiresAt: number;
}

export class PendingAuthorizations<T> {
  private readonly byState = new Map<string, PendingAuthorization<T>>();

  constructor(
    private readonly lifetimeMs = 10 * 60_000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  add(state: string, accountId: string, codeVerifier: string, context: T): void {
    this.prune();
    // One pending authorization per account: a new Authorize click replaces the old.
    for (const [s, p] of this.byState) if (p.accountId === accountId) this.byState.delete(s);
    this.byState.set(state, { accountId, codeVerifier, context, expiresAt: this.now() + this.lifetimeMs });
  }

  /** Takes the pending authorization for a state, once. */
  take(state: unknown, accountId?: string): PendingAuthorization<T> | undefined {
    this.prune();
    if (typeof state !== 'string') return undefined;
    const pending = this.byState.get(state);
    if (!pending || (accountId !== undefined && pending.accountId !== accountId)) return undefined;
    this.byState.delete(state);
    return pending;
  }

  private prune(): void {
    const now = this.now();
    for (const [s, p] of this.byState) if (p.expiresAt <= now) this.byState.delete(s);
  }
}

/** Reads code, state or error from the URL the browser was sent to (the paste fallback). */
export function parseRedirect(pasted: unknown): { code?: string; state?: string; error?: string; errorDescription?: string } | undefined {
  if (typeof pasted !== 'string' || pasted.length > 8192) return undefined;
  let url: URL;
  try {
    url = new URL(pasted.trim());
  } catch {
    return undefined;
  }
  // Some providers answer in the fragment.
  const params = url.searchParams.has('code') || url.searchParams.has('error') ? url.searchParams : new URLSearchParams(url.hash.replace(/^#/, ''));
  return {
    code: params.get('code') ?? undefined,
    state: params.get('state') ?? undefined,
    error: params.get('error') ?? undefined,
    errorDescription: params.get('error_description') ?? undefined,
  };
}
