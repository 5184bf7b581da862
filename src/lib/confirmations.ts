import { randomBytes } from 'node:crypto';

/**
 * One-time confirmations for sensitive commands: a node parks the request
 * under a random id and acts only when that id comes back in time. The
 * parked request is what runs, so a confirming message cannot change it.
 */

export interface PendingConfirmation<T> {
  id: string;
  /** ms since the epoch. */
  expiresAt: number;
  request: T;
}

export type ConfirmationAnswer<T> = { ok: true; request: T; id: string } | { ok: false; reason: 'malformed' | 'unknown' | 'expired' | 'used' };

/** An expired or used id is remembered this long, so a late answer is told apart from a wrong one. */
const REMEMBER_MS = 15 * 60_000;
/** A looping flow must not grow the book without bound. */
const MAX_PENDING = 100;

export class Confirmations<T> {
  private readonly pending = new Map<string, PendingConfirmation<T>>();
  private readonly spent = new Map<string, { at: number; reason: 'expired' | 'used' }>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  issue(request: T, windowSeconds: number): PendingConfirmation<T> {
    this.prune();
    if (this.pending.size >= MAX_PENDING) {
      const oldest = this.pending.keys().next().value as string;
      this.forget(oldest, 'expired');
    }
    const entry: PendingConfirmation<T> = { id: randomBytes(16).toString('base64url'), expiresAt: this.now() + Math.max(1, windowSeconds) * 1000, request };
    this.pending.set(entry.id, entry);
    return entry;
  }

  /** Takes the request parked under `id`, once. Accepts the id itself or `{ id }`. */
  take(answer: unknown): ConfirmationAnswer<T> {
    const id = typeof answer === 'string' ? answer : typeof answer === 'object' && answer !== null ? (answer as { id?: unknown }).id : undefined;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) return { ok: false, reason: 'malformed' };
    this.prune();
    const entry = this.pending.get(id);
    if (!entry) {
      const spent = this.spent.get(id);
      return { ok: false, reason: spent ? spent.reason : 'unknown' };
    }
    this.forget(id, 'used');
    return { ok: true, request: entry.request, id };
  }

  get size(): number {
    return this.pending.size;
  }

  clear(): void {
    this.pending.clear();
    this.spent.clear();
  }

  private forget(id: string, reason: 'expired' | 'used'): void {
    this.pending.delete(id);
    this.spent.set(id, { at: this.now(), reason });
  }

  private prune(): void {
    const now = this.now();
    for (const [id, entry] of this.pending) if (now >= entry.expiresAt) this.forget(id, 'expired');
    for (const [id, spent] of this.spent) if (now - spent.at > REMEMBER_MS) this.spent.delete(id);
  }
}

/** The message a wrong, late or repeated confirmation gets. */
export function confirmationRefusal(reason: 'malformed' | 'unknown' | 'expired' | 'used'): string {
  switch (reason) {
    case 'malformed':
      return 'msg.confirm must be the id of a pending confirmation (a string, or { id })';
    case 'unknown':
      return 'msg.confirm names no pending confirmation of this node';
    case 'expired':
      return 'the confirmation came too late: its window had closed; send the command again';
    case 'used':
      return 'that confirmation was already used: each one confirms a single command';
  }
}
