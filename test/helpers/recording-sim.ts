import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, resolveOptions, World, type RunningSimulator, type SimOptions } from '../../src/sim';

/**
 * A simulator (the same World and express app `startSimulator` builds) whose
 * HTTP server writes down every exchange: what each caller sent (method,
 * path, headers, the parsed body) and what the simulator answered (status,
 * headers, body). The security suites read from it every secret the
 * simulator handed out or was handed, and every request that reached it.
 */

export interface SimExchange {
  method: string;
  /** Path and query, as sent. */
  url: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The body as express parsed it (urlencoded or JSON), if any. */
  body: unknown;
  status: number;
  responseHeaders: Record<string, unknown>;
  responseBody: string;
}

export interface RecordingSimulator extends RunningSimulator {
  /** Every exchange so far, oldest first. */
  readonly exchanges: SimExchange[];
  /** Exchanges since a mark (its length at the time). */
  since(mark: number): SimExchange[];
}

type Chunk = string | Buffer | Uint8Array;

function toBuffer(chunk: unknown, encoding?: unknown): Buffer | undefined {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return undefined;
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return undefined;
}

/** Wraps this one response's write/end, so the body is seen exactly as it leaves. */
function record(req: IncomingMessage, res: ServerResponse, done: (exchange: SimExchange) => void): void {
  const chunks: Buffer[] = [];
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  // Taken now: express rewrites req.url while routing through mounted routers.
  const url = req.url ?? '';
  let ended = false;
  res.write = ((chunk: Chunk, ...rest: unknown[]) => {
    const b = toBuffer(chunk, rest[0]);
    if (b) chunks.push(b);
    return write(chunk, ...rest);
  }) as ServerResponse['write'];
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (!ended) {
      ended = true;
      const b = toBuffer(chunk, rest[0]);
      if (b) chunks.push(b);
      done({
        method: req.method ?? '',
        url,
        path: url.split('?')[0],
        headers: { ...req.headers },
        body: (req as IncomingMessage & { body?: unknown }).body,
        status: res.statusCode,
        responseHeaders: { ...res.getHeaders() },
        responseBody: Buffer.concat(chunks).toString('utf8'),
      });
    }
    return end(chunk, ...rest);
  }) as ServerResponse['end'];
}

/** Starts a recording simulator on a free loopback port (seed 42 unless told). */
export async function startRecordingSimulator(partial: Partial<SimOptions> = {}): Promise<RecordingSimulator> {
  const options = resolveOptions({ port: 0, host: '127.0.0.1', seed: 42, ...partial });
  const world = new World(options);
  const app = createApp(world);
  const exchanges: SimExchange[] = [];
  const server: Server = createServer((req, res) => {
    record(req, res, (x) => exchanges.push(x));
    app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    world,
    exchanges,
    since: (mark) => exchanges.slice(mark),
    close: () =>
      new Promise<void>((resolve) => {
        world.fleet.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Exchanges with the vehicle APIs (FordConnect v1 and FordConnect Query), not OAuth or the owner's pages. */
export function isApiExchange(x: SimExchange): boolean {
  return x.path.startsWith('/api/') || x.path.startsWith('/fcon-query/');
}
