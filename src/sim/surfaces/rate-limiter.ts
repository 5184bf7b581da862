import type { SimClock } from '../clock';

export interface RateLimitSettings {
  /** Requests a minute one app may make across all its vehicles. */
  perClientPerMinute: number;
  /** Requests a minute all apps together may make to one vehicle (protects its modem and 12 V battery). */
  perVehiclePerMinute: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets on simulated time: a burst up to the limit, then the limit per
 * minute. Simulated time makes the limits deterministic in tests.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: SimClock,
    public readonly settings: RateLimitSettings,
  ) {}

  take(key: string, perMinute: number): RateDecision {
    if (!(perMinute > 0) || !Number.isFinite(perMinute)) return { ok: true };
    const now = this.clock.now();
    const ratePerMs = perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: perMinute, updatedAt: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.updatedAt) * ratePerMs);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerMs / 1000)) };
  }

  reset(): void {
    this.buckets.clear();
  }
}
