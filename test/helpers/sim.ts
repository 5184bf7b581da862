import { request } from 'node:http';
import { startSimulator, type RunningSimulator, type SimOptions } from '../../src/sim';

/** Starts a simulator on a free loopback port for one suite. */
export async function withSimulator(options: Partial<SimOptions> = {}): Promise<RunningSimulator> {
  return startSimulator({ port: 0, host: '127.0.0.1', seed: 42, ...options });
}

/**
 * Mints a token for API tests that are not about OAuth itself: the same grant
 * and token records the consent flow creates, without the browser steps.
 * `authTime` (simulated epoch ms): when the owner signed in for it; default now.
 */
export function mintToken(
  sim: RunningSimulator,
  ownerId: string,
  scopes: string[],
  options: { clientId?: string; vehicleIds?: string[]; lifetimeSeconds?: number; authTime?: number } = {},
): { token: string; grantId: string } {
  const { world } = sim;
  const clientId = options.clientId ?? world.options.demoClient.id;
  const vehicleIds = options.vehicleIds ?? world.fleet.ownedBy(ownerId).map((v) => v.id);
  // A grant of its own, as every completed consent gets.
  const grant = world.store.createGrant(ownerId, clientId, scopes, vehicleIds, 'authorization_code', options.authTime);
  const record = world.store.issueAccessToken(grant, scopes, options.lifetimeSeconds);
  return { token: record.token, grantId: grant.id };
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One HTTP request over node:http, for what fetch cannot do: leave from a
 * chosen local address (on Linux all of 127.0.0.0/8 is loopback, so
 * 127.0.0.2 is a second caller on the same machine) or set Host.
 */
export function requestFrom(
  url: string,
  options: { method?: string; localAddress?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, ...(options.localAddress ? { localAddress: options.localAddress } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
