import type { RequestHandler, Response } from 'express';
import { FCON_QUERY_BASE } from '../oauth/fcon-categories';
import type { World } from '../world';
import type { BodyFault } from './faults';
import { RequestCounts } from './request-counts';

/**
 * What happens to an answer of the vehicle API on its way out: its status
 * counted, and the `bodyFault` applied to successful answers. Mounted before
 * the surfaces, so the request is carried out as usual (a command reaches
 * the vehicle) and only the answer is spoilt, as by a broken gateway.
 *
 * The answer counts are kept apart from the request counts (`/sim/requests`
 * stays as it was), in {@link answerCounts}, served at `/sim/answers`:
 * `api.<status>` per status of FordConnect v1, `api.401.token-expired` for
 * a 401 that refused an expired access token, `api.body-fault` per spoilt
 * answer; the same under `fcon.` for FordConnect Query.
 */

const SURFACES: readonly { prefix: string; count: string }[] = [
  { prefix: '/api/fordconnect/', count: 'api' },
  { prefix: `${FCON_QUERY_BASE}/`, count: 'fcon' },
];

/** What a gateway in front of an API answers when the API behind it is not well. */
export const GATEWAY_ERROR_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n';

/** Every value of a type no field of Ford's takes: strings `true`, numbers and booleans `"n/a"`; the shape stays. */
export function withWrongTypes(value: unknown): unknown {
  if (typeof value === 'string') return true;
  if (typeof value === 'number' || typeof value === 'boolean') return 'n/a';
  if (Array.isArray(value)) return value.map(withWrongTypes);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withWrongTypes(v)]));
  return value;
}

function spoil(res: Response, fault: Exclude<BodyFault, 'none'>, body: unknown, json: (body: unknown) => Response): Response {
  switch (fault) {
    case 'truncated': {
      const text = JSON.stringify(body) ?? '';
      return res.type('application/json').send(text.slice(0, Math.floor(text.length / 2)));
    }
    case 'non-json':
      return res.type('text/plain').send('OK');
    case 'html':
      return res.status(502).type('text/html').send(GATEWAY_ERROR_PAGE);
    case 'wrong-types':
      return json(withWrongTypes(body));
    case 'missing-fields': {
      const status = typeof body === 'object' && body !== null && 'status' in body ? (body as { status: unknown }).status : undefined;
      return json(status === undefined ? {} : { status });
    }
  }
}

const ANSWERS = new WeakMap<World, RequestCounts>();

/** The answer counts of a world (see the top of this file). */
export function answerCounts(world: World): RequestCounts {
  let counts = ANSWERS.get(world);
  if (!counts) {
    counts = new RequestCounts();
    ANSWERS.set(world, counts);
  }
  return counts;
}

export function answerFaults(world: World): RequestHandler {
  const counts = answerCounts(world);
  return (req, res, next) => {
    const surface = SURFACES.find((s) => req.path.startsWith(s.prefix))?.count;
    if (!surface) return next();
    res.on('finish', () => {
      counts.increment(`${surface}.${res.statusCode}`);
      if (res.statusCode === 401 && /has expired/.test(String(res.getHeader('www-authenticate') ?? ''))) counts.increment(`${surface}.401.token-expired`);
    });
    const json = res.json.bind(res) as (body: unknown) => Response;
    res.json = ((body: unknown) => {
      const fault = world.faults.bodyFault;
      if (fault === 'none' || res.statusCode < 200 || res.statusCode >= 300) return json(body);
      // Read live; a rate of 1 draws nothing, so switching the fault on does not move other seeded draws.
      const rate = world.faults.bodyFaultRate;
      if (rate < 1 && !world.random.chance(rate)) return json(body);
      counts.increment(`${surface}.body-fault`);
      return spoil(res, fault, body, json);
    }) as Response['json'];
    next();
  };
}
