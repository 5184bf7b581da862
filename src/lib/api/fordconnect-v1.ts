import { ApiError } from './errors';
import type { HttpClient } from './http-client';
import type { VehicleApi, VehicleSummary } from './vehicle-api';

/** FordConnect v1 (and the simulator): the 2023–2024 paths, v3 for reads, v1 for commands. */
export class FordConnectV1Api implements VehicleApi {
  constructor(private readonly http: HttpClient) {}

  async listVehicles(): Promise<VehicleSummary[]> {
    const { data } = await this.http.request<{ vehicles?: unknown }>('GET', '/v3/vehicles');
    if (!Array.isArray(data.vehicles)) throw new ApiError('bad-response', 'GET /v3/vehicles: the answer has no vehicles list');
    return data.vehicles.filter(isVehicle).map((v) => ({
      vehicleId: v.vehicleId,
      make: str(v.make),
      modelName: str(v.modelName),
      modelYear: v.modelYear === undefined ? undefined : String(v.modelYear),
      nickName: str(v.nickName),
      engineType: str(v.engineType),
    }));
  }
}

function isVehicle(v: unknown): v is Record<string, unknown> & { vehicleId: string } {
  return typeof v === 'object' && v !== null && typeof (v as { vehicleId?: unknown }).vehicleId === 'string';
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
