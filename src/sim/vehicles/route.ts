/**
 * A closed loop of road a simulated vehicle drives: lat/lon points, each with
 * the speed of the segment that starts there. Position, heading and speed are
 * pure functions of the distance driven, so state integrates exactly.
 */

export interface RoutePoint {
  lat: number;
  lon: number;
  /** Speed on the segment from this point to the next, km/h. */
  kph: number;
}

export interface RoutePosition {
  lat: number;
  lon: number;
  /** Degrees clockwise from north, 0–360. */
  headingDeg: number;
  /** Speed of the segment, km/h. */
  kph: number;
  /** Metres left to the end of the segment. */
  segmentRemainingM: number;
}

const EARTH_RADIUS_M = 6_371_000;
const rad = (deg: number): number => (deg * Math.PI) / 180;

export function haversineM(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const dLat = rad(bLat - aLat);
  const dLon = rad(bLon - aLon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(aLat)) * Math.cos(rad(bLat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Initial bearing from a to b, degrees clockwise from north. */
export function bearingDeg(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const y = Math.sin(rad(bLon - aLon)) * Math.cos(rad(bLat));
  const x = Math.cos(rad(aLat)) * Math.sin(rad(bLat)) - Math.sin(rad(aLat)) * Math.cos(rad(bLat)) * Math.cos(rad(bLon - aLon));
  return ((Math.atan2(y, x) * 180) / Math.PI + 360) % 360;
}

const COMPASS = ['North', 'NorthEast', 'East', 'SouthEast', 'South', 'SouthWest', 'West', 'NorthWest'] as const;
export type CompassDirection = (typeof COMPASS)[number];

/** Ford's eight-point `direction` spelling. */
export function compassDirection(headingDeg: number): CompassDirection {
  const normalised = ((headingDeg % 360) + 360) % 360;
  return COMPASS[Math.round(normalised / 45) % 8];
}

export class Route {
  private readonly lengths: number[];
  private readonly starts: number[];
  readonly lengthM: number;

  constructor(
    readonly name: string,
    readonly points: readonly RoutePoint[],
  ) {
    if (points.length < 2) throw new RangeError('a route needs at least two points');
    this.lengths = points.map((p, i) => {
      const q = points[(i + 1) % points.length];
      return haversineM(p.lat, p.lon, q.lat, q.lon);
    });
    this.starts = [];
    let sum = 0;
    for (const len of this.lengths) {
      this.starts.push(sum);
      sum += len;
    }
    this.lengthM = sum;
  }

  /** Where a vehicle is after `distanceM` metres from the first point (wrapping round the loop). */
  at(distanceM: number): RoutePosition {
    let d = distanceM % this.lengthM;
    if (d < 0) d += this.lengthM;
    let i = this.starts.length - 1;
    // Few points per route: a linear scan is clearer than a binary search.
    for (let k = 0; k < this.starts.length; k++) {
      // A point on a boundary belongs to the next segment, so a step ending there moves on.
      if (d < this.starts[k] + this.lengths[k] - 1e-6) {
        i = k;
        break;
      }
    }
    const a = this.points[i];
    const b = this.points[(i + 1) % this.points.length];
    const len = this.lengths[i];
    const f = len > 0 ? Math.min(1, (d - this.starts[i]) / len) : 0;
    return {
      lat: a.lat + (b.lat - a.lat) * f,
      lon: a.lon + (b.lon - a.lon) * f,
      headingDeg: bearingDeg(a.lat, a.lon, b.lat, b.lon),
      kph: a.kph,
      segmentRemainingM: Math.max(0, len - (d - this.starts[i])),
    };
  }
}

/** Loops near Ford's home in Dearborn, Ann Arbor and Detroit: plausible streets, not a map. */
export const ROUTES = {
  dearborn: new Route('Dearborn: World HQ, Michigan Ave, Rotunda Dr', [
    { lat: 42.3157, lon: -83.2121, kph: 30 },
    { lat: 42.3224, lon: -83.2121, kph: 60 },
    { lat: 42.3228, lon: -83.2398, kph: 50 },
    { lat: 42.3052, lon: -83.2402, kph: 60 },
    { lat: 42.3049, lon: -83.2125, kph: 40 },
  ]),
  dearbornHeights: new Route('Dearborn Heights: Ford Rd, Telegraph Rd, Warren Ave', [
    { lat: 42.3368, lon: -83.2731, kph: 40 },
    { lat: 42.3303, lon: -83.2735, kph: 60 },
    { lat: 42.3306, lon: -83.2993, kph: 70 },
    { lat: 42.3447, lon: -83.2998, kph: 60 },
    { lat: 42.3441, lon: -83.2736, kph: 50 },
  ]),
  annArbor: new Route('Ann Arbor: Main St, Huron St, Division St, Packard St', [
    { lat: 42.2712, lon: -83.7486, kph: 40 },
    { lat: 42.2810, lon: -83.7484, kph: 40 },
    { lat: 42.2812, lon: -83.7437, kph: 40 },
    { lat: 42.2712, lon: -83.7414, kph: 50 },
    { lat: 42.2637, lon: -83.7355, kph: 50 },
    { lat: 42.2640, lon: -83.7490, kph: 40 },
  ]),
  detroitDepot: new Route('Detroit: Corktown depot, downtown, Midtown deliveries', [
    { lat: 42.3290, lon: -83.0771, kph: 40 },
    { lat: 42.3311, lon: -83.0458, kph: 50 },
    { lat: 42.3486, lon: -83.0598, kph: 50 },
    { lat: 42.3592, lon: -83.0664, kph: 60 },
    { lat: 42.3401, lon: -83.0901, kph: 60 },
  ]),
} as const;
