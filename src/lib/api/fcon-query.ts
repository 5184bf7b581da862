import { createHash } from 'node:crypto';
import { ApiError } from './errors';
import type { HttpClient } from './http-client';
import type { VehicleApi, VehicleSummary } from './vehicle-api';

/**
 * FordConnect Query (Ford's current, read-only API): one authorization is one
 * vehicle, and no path carries a vehicle id — the token is the vehicle.
 */
export class FconQueryApi implements VehicleApi {
  constructor(private readonly http: HttpClient) {}

  async listVehicles(): Promise<VehicleSummary[]> {
    const { data } = await this.http.request<Record<string, unknown>>('GET', '/v1/garage');
    if (typeof data.vin !== 'string') throw new ApiError('bad-response', 'GET /v1/garage: the answer has no vehicle');
    const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    return [
      {
        // The VIN itself never leaves the kit: flows and the editor get a stable stand-in.
        vehicleId: vehicleIdFromVin(data.vin),
        make: text(data.make),
        modelName: text(data.modelName),
        modelYear: data.modelYear === undefined ? undefined : String(data.modelYear),
        nickName: text(data.nickName),
        engineType: text(data.engineType),
      },
    ];
  }
}

/** FordConnect Query paths carry no vehicle id; this one only tells vehicles apart in flows. */
export function vehicleIdFromVin(vin: string): string {
  return createHash('sha256').update(vin).digest('hex').slice(0, 32);
}
