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
    // Trim in batches: shifting the whole array on every record made a full log 50 times slower.
    if (this.entries.length > this.capacity + Math.max(1, Math.floor(this.capacity / 10))) this.entries.splice(0, this.entries.length - this.capacity);
    return full;
  }

  /** Newest first. */
  forOwner(ownerId: string, limit = 500): SimAuditEntry[] {
    return this.all().filter((e) => e.ownerId === ownerId).slice(-limit).reverse();
  }

  all(): readonly SimAuditEntry[] {
    return this.entries.length > this.capacity ? this.entries.slice(-this.capacity) : this.entries;
  }
}
