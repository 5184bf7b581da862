import type { SimClock } from '../clock';

/** One line of the owner's audit log: every data access and command, who, when, outcome. */
export interface SimAuditEntry {
  seq: number;
  time: number;
  ownerId: string;
  clientId: string;
  vehicleId?: string;
  /** e.g. `status.read`, `location.read`, `lock`, `token.refresh`, `auth.grant`. */
  action: string;
  outcome: 'ok' | 'denied' | 'failed' | 'rate-limited';
  detail: string;
  ip?: string;
  httpStatus?: number;
}

export class AuditLog {
  private readonly entries: SimAuditEntry[] = [];
  private seq = 0;

  constructor(
    private readonly clock: SimClock,
    private readonly capacity = 10_000,
  ) {}

  record(entry: Omit<SimAuditEntry, 'seq' | 'time'>): SimAuditEntry {
    const full: SimAuditEntry = { seq: ++this.seq, time: this.clock.now(), ...entry };
    this.entries.push(full);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return full;
  }

  /** Newest first. */
  forOwner(ownerId: string, limit = 500): SimAuditEntry[] {
    return this.entries.filter((e) => e.ownerId === ownerId).slice(-limit).reverse();
  }

  all(): readonly SimAuditEntry[] {
    return this.entries;
  }
}
