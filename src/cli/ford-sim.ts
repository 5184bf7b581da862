#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { startSimulator, type RunningSimulator } from '../sim/server';
import { DEFAULT_REDIRECT_URIS, defaultOptions, type SimOptions } from '../sim/options';
import { BODY_FAULTS, type BodyFault } from '../sim/control/faults';
import { DEMO_OWNERS } from '../sim/world';
import { FCON_POLICY, FCON_QUERY_BASE } from '../sim/oauth/fcon-categories';
import { FCON_INIT_PATH } from '../sim/oauth/fcon-consent-page';
import { FCON_TOKEN_PATH } from '../sim/oauth/fcon-token';

function number(min: number, max = Number.POSITIVE_INFINITY) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected a number from ${min}${max < Infinity ? ` to ${max}` : ''}`);
    return n;
  };
}

/** Seconds that go out verbatim in a header (RFC 9470 max_age): whole numbers only. */
function wholeNumber(min: number) {
  const parse = number(min);
  return (value: string): number => {
    const n = parse(value);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a whole number from ${min}`);
    return n;
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function buildCommand(): Command {
  const d = defaultOptions();
  return new Command('ford-sim')
    .description("A local, faithful stand-in for Ford's vehicle APIs (FordConnect v1 and FordConnect Query) and their OAuth 2.0 server, with owner pages for consent, connected apps, audit and alerts.")
    .addOption(new Option('-p, --port <port>', 'port to listen on (0 picks a free one)').default(d.port).env('FORD_SIM_PORT').argParser(number(0, 65535)))
    .addOption(new Option('--host <address>', 'address to listen on; keep loopback unless other machines must reach it').default(d.host).env('FORD_SIM_HOST'))
    .option('--seed <n>', 'seed for vehicle ids, fault draws and command outcomes', number(0), d.seed)
    .option('--time-scale <x>', 'simulated seconds per real second (e.g. 60 = an hour a minute)', number(0.001), d.timeScale)
    .option('--access-token-ttl <seconds>', 'access token lifetime', number(1), d.accessTokenSeconds)
    .option('--refresh-token-ttl <seconds>', 'refresh token lifetime', number(1), d.refreshTokenSeconds)
    .option('--command-delay <ms>', 'simulated time a command stays PENDINGRESPONSE', number(0), d.commandDelayMs)
    .option('--remote-start-minutes <minutes>', 'engine run time after a remote start', number(1), d.remoteStartMinutes)
    .option('--rate-limit-client <n>', 'requests per minute per app (0 = no limit)', number(0), d.rateLimits.perClientPerMinute)
    .option('--rate-limit-vehicle <n>', 'requests per minute per vehicle across apps (0 = no limit)', number(0), d.rateLimits.perVehiclePerMinute)
    .option('--latency <ms>', 'fault: added latency on every API answer', number(0), 0)
    .option('--error-rate <p>', 'fault: share of API requests answered 503 (0..1)', number(0, 1), 0)
    .option('--throttle-rate <p>', 'fault: share of API requests answered 429 (0..1)', number(0, 1), 0)
    .option('--retry-after <seconds>', 'Retry-After sent with 429 answers', number(0), 30)
    .option('--html-401-rate <p>', 'fault, FordConnect Query only: share of requests answered 401 with an HTML page (0..1)', number(0, 1), 0)
    .option('--throttle-no-retry-after-rate <p>', 'fault, FordConnect Query only: share of requests answered 429 without Retry-After (0..1)', number(0, 1), 0)
    .addOption(new Option('--body-fault <kind>', 'fault: spoil the body of successful API answers (the request is still carried out)').choices(BODY_FAULTS).default('none'))
    .option('--body-fault-rate <p>', 'fault: share of successful API answers --body-fault spoils (0..1)', number(0, 1), 1)
    .option('--step-up-max-age <seconds>', "unlock and remote start need the owner's sign-in behind the token to be at most this old, else 401 insufficient_user_authentication (RFC 9470); 0 = off", wholeNumber(0), 0)
    .option('--offline <vehicleId>', 'fault: a vehicle whose modem does not answer (repeatable)', collect, [])
    .option('--client-id <id>', 'demo app client id', d.demoClient.id)
    .option('--client-secret <secret>', 'demo app client secret', d.demoClient.secret)
    .option('--redirect-uri <uri>', 'a redirect URI registered for the demo app (repeatable; replaces the defaults)', collect, [])
    .option('--log-requests', 'log one line per request (never tokens)', false)
    .addOption(
      new Option('--trust-proxy <spec>', "proxies whose X-Forwarded-For names the caller (for the IP allow-list and the audit log): addresses, CIDR ranges or loopback / linklocal / uniquelocal, comma-separated; default none").env(
        'FORD_SIM_TRUST_PROXY',
      ),
    );
}

export function optionsFrom(opts: Record<string, unknown>): Partial<SimOptions> {
  const redirects = opts.redirectUri as string[];
  return {
    port: opts.port as number,
    host: opts.host as string,
    seed: opts.seed as number,
    timeScale: opts.timeScale as number,
    accessTokenSeconds: opts.accessTokenTtl as number,
    refreshTokenSeconds: opts.refreshTokenTtl as number,
    commandDelayMs: opts.commandDelay as number,
    remoteStartMinutes: opts.remoteStartMinutes as number,
    rateLimits: { perClientPerMinute: opts.rateLimitClient as number, perVehiclePerMinute: opts.rateLimitVehicle as number },
    faults: {
      latencyMs: opts.latency as number,
      errorRate: opts.errorRate as number,
      rateLimitRate: opts.throttleRate as number,
      retryAfterSeconds: opts.retryAfter as number,
      offlineVehicles: opts.offline as string[],
      stepUpMaxAgeSeconds: opts.stepUpMaxAge as number,
      html401Rate: opts.html401Rate as number,
      rateLimitNoRetryAfterRate: opts.throttleNoRetryAfterRate as number,
      bodyFault: opts.bodyFault as BodyFault,
      bodyFaultRate: opts.bodyFaultRate as number,
    },
    demoClient: {
      id: opts.clientId as string,
      secret: opts.clientSecret as string,
      redirectUris: redirects.length > 0 ? redirects : [...DEFAULT_REDIRECT_URIS],
    },
    logRequests: opts.logRequests as boolean,
    ...(typeof opts.trustProxy === 'string' ? { trustProxy: opts.trustProxy } : {}),
  };
}

export function describe(sim: RunningSimulator): string {
  const { world, url } = sim;
  const o = world.options;
  const vehicles = world.fleet.list().map((v) => `    ${v.nickName.padEnd(18)} ${v.engineType.padEnd(5)} ${v.id}  (owners: ${v.ownerIds.join(', ')})`);
  return [
    `Ford API simulator listening on ${url}`,
    '',
    `  Owner pages      ${url}/owner/apps   (Connected apps, ${url}/owner/audit, ${url}/owner/alerts)`,
    `  OAuth metadata   ${url}/.well-known/oauth-authorization-server`,
    `  Authorize        ${url}/oauth2/v2.0/authorize`,
    `  Token            ${url}/oauth2/v2.0/token`,
    `  FordConnect API  ${url}/api/fordconnect/v3/vehicles  (commands under /api/fordconnect/v1/vehicles/…)`,
    `  Query API        ${url}${FCON_QUERY_BASE}/v1/telemetry  (FordConnect Query; also /v1/garage, /v1/electric/charge-schedules, /v1/electric/departure-times, /v1/vehicle-health/alerts)`,
    `  Query authorize  ${url}${FCON_INIT_PATH}  (one vehicle per authorization)`,
    `  Query token      ${url}${FCON_TOKEN_PATH}?p=${FCON_POLICY}`,
    `  Test control     ${url}/sim/state`,
    '',
    `  Demo app         client id ${o.demoClient.id}   client secret ${o.demoClient.secret}`,
    `  Redirect URIs    ${o.demoClient.redirectUris.join('  ')}`,
    `  Fleet app        client id ${o.fleetClient.id}   client secret ${o.fleetClient.secret}  (client credentials)`,
    `  Owners           ${DEMO_OWNERS.map((u) => u.email).join(', ')}  (password: demo)`,
    ...(world.faults.stepUpMaxAgeSeconds > 0 ? [`  Step-up          unlock and remote start need an owner sign-in within ${world.faults.stepUpMaxAgeSeconds} s (RFC 9470)`] : []),
    ...(o.trustProxy ? [`  Trusted proxies  ${o.trustProxy}  (their X-Forwarded-For names the caller)`] : []),
    `  Tokens           access ${o.accessTokenSeconds} s, refresh ${o.refreshTokenSeconds} s; time scale ${o.timeScale}x; seed ${o.seed}`,
    '  Vehicles',
    ...vehicles,
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const command = buildCommand();
  command.parse(argv);
  const sim = await startSimulator(optionsFrom(command.opts()));
  console.log(describe(sim));
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    console.log('\nStopping the simulator…');
    sim.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main(process.argv).catch((err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    console.error(e.code === 'EADDRINUSE' ? `ford-sim: the port is already in use (${e.message}); pick another with --port` : `ford-sim: ${e.message ?? String(err)}`);
    process.exit(1);
  });
}
