/**
 * Simulated time. It runs `scale` times faster than the wall clock and can be
 * jumped forward, so tests and demos see hours of vehicle life in seconds
 * without waiting for them.
 */
export class SimClock {
  private realStart: number;
  private simStart: number;
  private offsetMs = 0;

  constructor(
    public readonly scale = 1,
    start: number = Date.now(),
    private readonly realNow: () => number = Date.now,
  ) {
    this.realStart = realNow();
    this.simStart = start;
  }

  now(): number {
    return Math.floor(this.simStart + (this.realNow() - this.realStart) * this.scale + this.offsetMs);
  }

  date(): Date {
    return new Date(this.now());
  }

  /** Jumps simulated time forward; negative jumps are refused so causality holds. */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advance needs a non-negative number of milliseconds');
    this.offsetMs += ms;
    return this.now();
  }

  /** Converts a simulated duration into the wall-clock time it takes. */
  realDelay(simMs: number): number {
    return Math.max(0, simMs / this.scale);
  }
}
