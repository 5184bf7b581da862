import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { ApiError, parseRetryAfter } from '../../src/lib/api/errors';
import { FconQueryApi, vehicleIdFromVin } from '../../src/lib/api/fcon-query';
import { HttpClient, type TokenSource } from '../../src/lib/api/http-client';
import { ReauthorizationNeededError } from '../../src/lib/oauth/token-manager';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('lib/api/http-client error mapping (against a local server)', () => {
  let server: Server;
  let handler: Handler;
  let base: string;
  let seenTokens: string[];

  before(async () => {
    server = createServer((req, res) => handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    seenTokens = [];
  });

  function tokens(): TokenSource & { rejections: number } {
    const source = {
      rejections: 0,
      getAccessToken: async () => 'token-1',
      tokenAfterRejection: async () => {
        source.rejections++;
        return 'token-2';
      },
    };
    return source;
  }

  function reply(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
    return (req, res) => {
      seenTokens.push(String(req.headers.authorization));
      res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/html' : 'application/json', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
  }

  async function failure(client: HttpClient): Promise<ApiError> {
    const err = await client.request('GET', '/x').then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(ApiError);
    return err as ApiError;
  }

  it('refreshes once and retries once on invalid_token, then gives up', async () => {
    handler = reply(401, { error: 'invalid_token' }, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    const source = tokens();
    const err = await failure(new HttpClient({ baseUrl: base, tokens: source }));
    expect(err.kind).to.equal('auth');
    expect(source.rejections).to.equal(1);
    expect(seenTokens).to.deep.equal(['Bearer token-1', 'Bearer token-2']);
    expect(err.message).to.not.include('token-');
  });

  it('succeeds on the retry with the new token', async () => {
    handler = (req, res) => (req.headers.authorization === 'Bearer token-2' ? reply(200, { ok: true })(req, res) : reply(401, { error: 'invalid_token' })(req, res));
    const result = await new HttpClient({ baseUrl: base, tokens: tokens() }).request<{ ok: boolean }>('GET', '/x');
    expect(result.data).to.deep.equal({ ok: true });
  });

  it('treats a 401 with an HTML page (FordConnect Query\'s gateway) as an expired token: one refresh, one retry', async () => {
    handler = (req, res) => (req.headers.authorization === 'Bearer token-2' ? reply(200, { ok: true })(req, res) : reply(401, '<html><body>401 Unauthorized</body></html>')(req, res));
    const source = tokens();
    const result = await new HttpClient({ baseUrl: base, tokens: source }).request<{ ok: boolean }>('GET', '/x');
    expect(result.data).to.deep.equal({ ok: true });
    expect(source.rejections).to.equal(1);

    seenTokens = [];
    handler = reply(401, '<html><body>401 Unauthorized</body></html>');
    const again = tokens();
    const err = await failure(new HttpClient({ baseUrl: base, tokens: again }));
    expect(err.kind).to.equal('auth');
    expect(again.rejections).to.equal(1);
    expect(seenTokens).to.have.length(2);
  });

  it('maps 429 with and without Retry-After', async () => {
    handler = reply(429, { errorCode: '429', errorMessage: 'slow down' }, { 'Retry-After': '17' });
    expect((await failure(new HttpClient({ baseUrl: base, tokens: tokens() }))).retryAfterSeconds).to.equal(17);
    handler = reply(429, { errorCode: 429, errorMessage: 'slow down' });
    const err = await failure(new HttpClient({ baseUrl: base, tokens: tokens() }));
    expect(err.kind).to.equal('rate-limited');
    expect(err.retryAfterSeconds).to.equal(60);
  });

  it('names the missing scope of a 403 and reads a step-up challenge', async () => {
    handler = reply(403, { error: 'insufficient_scope' }, { 'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="command:lock"' });
    const scope = await failure(new HttpClient({ baseUrl: base, tokens: tokens() }));
    expect([scope.kind, scope.scope]).to.deep.equal(['scope', 'command:lock']);
    handler = reply(401, {}, { 'WWW-Authenticate': 'Bearer error="insufficient_user_authentication", error_description="verify again"' });
    expect((await failure(new HttpClient({ baseUrl: base, tokens: tokens() }))).kind).to.equal('step-up');
  });

  it('maps HTML error pages, 404, 406, non-JSON success and network failures', async () => {
    const client = new HttpClient({ baseUrl: base, tokens: tokens() });
    handler = reply(502, '<html><body>Bad gateway</body></html>');
    expect((await failure(client)).kind).to.equal('server');
    handler = reply(404, { error: { code: 4002, statusCode: 'NOT_FOUND' }, status: 'FAILED' });
    expect((await failure(client)).kind).to.equal('not-found');
    handler = reply(406, { error: { code: 4006, statusCode: 'NOT_ACCEPTABLE' }, status: 'FAILED' });
    expect((await failure(client)).kind).to.equal('not-acceptable');
    handler = reply(200, '<html>not json</html>');
    expect((await failure(client)).kind).to.equal('bad-response');
    const offline = new HttpClient({ baseUrl: 'http://127.0.0.1:1', tokens: tokens() });
    expect((await failure(offline)).kind).to.equal('network');
  });

  it('turns a lost grant into a re-authorization error without calling the API', async () => {
    handler = reply(200, { ok: true });
    const source: TokenSource = {
      getAccessToken: async () => {
        throw new ReauthorizationNeededError('invalid_grant');
      },
      tokenAfterRejection: async () => 'never',
    };
    expect((await failure(new HttpClient({ baseUrl: base, tokens: source }))).kind).to.equal('reauth');
    expect(seenTokens).to.deep.equal([]);
  });

  it('reads the one FordConnect Query vehicle from the garage', async () => {
    handler = reply(200, { vin: '1FMCU9J98MUA12345', nickName: 'Blue', modelName: 'Escape', modelYear: '2021', make: 'Ford', engineType: 'PHEV' });
    const vehicles = await new FconQueryApi(new HttpClient({ baseUrl: base, tokens: tokens() })).listVehicles();
    expect(JSON.stringify(vehicles)).to.not.include('1FMCU9J98MUA12345');
    expect(vehicles).to.deep.equal([{ vehicleId: vehicleIdFromVin('1FMCU9J98MUA12345'), make: 'Ford', modelName: 'Escape', modelYear: '2021', nickName: 'Blue', engineType: 'PHEV' }]);
  });

  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('30')).to.equal(30);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 1)).toUTCString(), Date.UTC(2030, 0, 1))).to.equal(60);
    expect(parseRetryAfter('soon')).to.equal(undefined);
    expect(parseRetryAfter(undefined)).to.equal(undefined);
  });
});
