import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import cookieParser from 'cookie-parser';
import { World } from './world';
import { resolveOptions, type SimOptions } from './options';
import { loginRouter } from './owner/login';
import { oauthRouter } from './oauth/routes';
import { AUTHORIZE_PATH } from './oauth/authorize';
import { fordConnectV1Router } from './surfaces/fordconnect-v1';
import { FCON_QUERY_BASE, fconQueryRouter } from './surfaces/fcon-query';
import { ownerRouter } from './owner/routes';
import { controlRouter } from './control/routes';
import { answerFaults } from './control/answer-faults';

export interface RunningSimulator {
  /** Base URL, e.g. http://127.0.0.1:8370 */
  url: string;
  port: number;
  world: World;
  close(): Promise<void>;
}

/** What {@link startSimulator} gives: a simulator that can also go down and come back. */
export interface RestartableSimulator extends RunningSimulator {
  /**
   * Stops answering, as a crashed or restarting server does: the listening
   * socket and every open connection close (a request under way gets no
   * answer, though what it asked for may still happen), the world — vehicles,
   * grants and tokens, counts, faults, the clock — stays. Idempotent.
   */
  stopListening(): Promise<void>;
  /** Listens again on the same address and port, with the same world. Idempotent. */
  listenAgain(): Promise<void>;
  /** {@link stopListening}, then {@link listenAgain}: the same simulator, back on the same port. */
  restart(): Promise<void>;
  /** Whether it is listening now. */
  readonly listening: boolean;
  /** Requests received and not answered yet (e.g. held by `latencyMs`), for tests that must not move time while one is being served. */
  readonly openRequests: number;
}

/** The most fields a catalogue consent form may have: one a vehicle, plus the scopes and hidden fields. */
export const MAX_CONSENT_FIELDS = 10_000;

/** The express app over a world; exported so tests can mount it however they like. */
export function createApp(world: World): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // The IP allow-list, the audit log and /sim's loopback check judge the peer's own address:
  // X-Forwarded-For counts only when sent by a proxy the operator named (--trust-proxy).
  const trustProxy = world.options.trustProxy?.trim() ? world.options.trustProxy : false;
  try {
    app.set('trust proxy', trustProxy);
  } catch (err) {
    throw new RangeError(`invalid trust proxy "${world.options.trustProxy}": ${(err as Error).message}; give addresses, CIDR ranges or loopback / linklocal / uniquelocal, comma-separated`);
  }
  app.use(cookieParser());
  // The catalogue consent form has one `vehicle` checkbox per vehicle of the owner (`vehicle=` + 32 hex
  // + `&`: 41 bytes) besides ~15 other fields, whose values came in the authorize URL (under Node's
  // 16 KB header limit). body-parser's default of 1000 fields refused owners with large fleets:
  // 10 000 fields of that kind are ~410 KB, so with 512 KB the field limit, not the size, is the bound.
  // Only that form gets it (Query's consent sends one vehicle); every other form keeps 64 KB and 1000.
  app.post(AUTHORIZE_PATH, express.urlencoded({ extended: false, limit: '512kb', parameterLimit: MAX_CONSENT_FIELDS }));
  app.use(express.urlencoded({ extended: false, limit: '64kb' }));
  app.use(express.json({ limit: '64kb', type: ['application/json', 'application/*+json'] }));
  if (world.options.logRequests) {
    app.use((req, res, next) => {
      res.on('finish', () => console.log(`${req.method} ${req.path} ${res.statusCode}`));
      next();
    });
  }
  app.use(answerFaults(world));
  app.get('/', (_req, res) => res.redirect(302, '/owner/apps'));
  // Browsers ask for it on every page; an empty answer keeps their consoles clean.
  app.get('/favicon.ico', (_req, res) => res.status(204).end());
  app.use(loginRouter(world));
  app.use(oauthRouter(world));
  app.use(fordConnectV1Router(world));
  app.use(fconQueryRouter(world));
  app.use(ownerRouter(world));
  app.use(controlRouter(world));

  app.use((req, res) => {
    res.status(404).json({ errorCode: '404', errorMessage: `No route for ${req.method} ${req.path}` });
  });
  const onError: ErrorRequestHandler = (err: { status?: number; type?: string; message?: string }, req, res, _next) => {
    void _next;
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 600 ? err.status : 500;
    const message = err.type === 'entity.parse.failed' ? 'Malformed JSON body' : status === 500 ? 'Internal server error' : (err.message ?? 'Bad request');
    if (status === 500) console.error('ford-sim: unexpected error', err);
    if (res.headersSent) return;
    // OAuth endpoints answer in OAuth's error shape, the vehicle API in Ford's.
    if (req.path.includes('/oauth2/')) res.status(status).json({ error: status === 500 ? 'server_error' : 'invalid_request', error_description: message });
    else if (req.path.startsWith('/sim/')) res.status(status).json({ error: message });
    // FordConnect Query's errorCode is a number (Ford's collection and OpenAPI examples).
    else if (req.path.startsWith(`${FCON_QUERY_BASE}/`)) res.status(status).json({ errorCode: status, errorMessage: message });
    else res.status(status).json({ errorCode: String(status), errorMessage: message });
  };
  app.use(onError);
  return app;
}

/** Starts a simulator; the library entry tests and the launcher use. */
export async function startSimulator(partial: Partial<SimOptions> = {}): Promise<RestartableSimulator> {
  const options = resolveOptions(partial);
  const world = new World(options);
  const app = createApp(world);
  let openRequests = 0;
  const server: Server = createServer((req, res) => {
    openRequests++;
    res.once('close', () => openRequests--);
    app(req, res);
  });
  const listen = (port: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await listen(options.port);
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  const listenAgain = async (): Promise<void> => {
    if (!server.listening) await listen(port);
  };
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    world,
    get listening() {
      return server.listening;
    },
    get openRequests() {
      return openRequests;
    },
    stopListening,
    listenAgain,
    restart: async () => {
      await stopListening();
      await listenAgain();
    },
    close: async () => {
      world.fleet.stop();
      await stopListening();
    },
  };
}
