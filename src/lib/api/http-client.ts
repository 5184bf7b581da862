import axios, { type AxiosInstance, type AxiosResponse, type Method } from 'axios';
import { ReauthorizationNeededError } from '../oauth/token-manager';
import { ApiError, NotSentError, parseRetryAfter, parseWwwAuthenticate } from './errors';

/** Where the client gets its bearer token; the TokenManager is one. */
export interface TokenSource {
  getAccessToken(): Promise<string>;
  /** Called once after a 401 with the token that was refused. */
  tokenAfterRejection(rejected: string): Promise<string>;
}

export interface HttpClientOptions {
  baseUrl: string;
  tokens: TokenSource;
  /** Headers every call sends (Ford's Application-Id and api-version). */
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Used when a 429 carries no Retry-After. */
  defaultRetryAfterSeconds?: number;
}

export interface HttpResult<T> {
  status: number;
  data: T;
}

/**
 * Bearer calls to a vehicle API: one refresh and one retry on an expired
 * token (never a loop), and every failure mapped to an ApiError.
 */
export class HttpClient {
  private readonly http: AxiosInstance;

  constructor(private readonly options: HttpClientOptions) {
    this.http = axios.create({
      baseURL: options.baseUrl.replace(/\/+$/, ''),
      timeout: options.timeoutMs ?? 15_000,
      headers: { Accept: 'application/json', ...options.headers },
      // Statuses are ours to map; axios must not throw on them.
      validateStatus: () => true,
      maxRedirects: 0,
      responseType: 'json',
      transitional: { silentJSONParsing: true, forcedJSONParsing: true, clarifyTimeoutError: true },
    });
  }

  async request<T>(method: Method, path: string, body?: unknown): Promise<HttpResult<T>> {
    let token = await this.token(() => this.options.tokens.getAccessToken());
    let response = await this.send(method, path, token, body);
    if (response.status === 401 && this.isTokenProblem(response)) {
      token = await this.token(() => this.options.tokens.tokenAfterRejection(token));
      response = await this.send(method, path, token, body);
    }
    if (response.status >= 200 && response.status < 300) {
      if (response.status !== 204 && (typeof response.data !== 'object' || response.data === null)) {
        throw new ApiError('bad-response', `${method} ${path}: the API answered ${response.status} with a body that is not JSON`, response.status);
      }
      return { status: response.status, data: response.data as T };
    }
    throw this.toError(method, path, response);
  }

  private async token(get: () => Promise<string>): Promise<string> {
    try {
      return await get();
    } catch (err) {
      if (err instanceof ReauthorizationNeededError) throw new ApiError('reauth', err.message);
      const message = err instanceof Error ? err.message : String(err);
      throw new ApiError('auth', `could not get an access token: ${message}`);
    }
  }

  private async send(method: Method, path: string, token: string, body: unknown): Promise<AxiosResponse> {
    const once = (): Promise<AxiosResponse> => this.http.request({ method, url: path, data: body, headers: { Authorization: `Bearer ${token}` } });
    try {
      try {
        return await once();
      } catch (err) {
        // A kept-alive connection the server had closed while it sat idle (a restart, its keep-alive
        // timeout) resets as it is reused. Node's advice: try once more on a fresh connection. Only for
        // reads, which may be repeated; a command is never sent twice.
        if (method.toUpperCase() === 'GET' && staleConnection(err)) return await once();
        throw err;
      }
    } catch (err) {
      const e = err as { code?: string; message?: string };
      const what = e.code === 'ETIMEDOUT' || e.code === 'ECONNABORTED' ? 'timed out' : `failed (${e.code ?? e.message ?? 'network error'})`;
      // No connection at all: the caller may know for sure that nothing was carried out.
      if (e.code !== undefined && CONNECT_FAILURES.has(e.code)) throw new NotSentError('network', `${method} ${path} ${what}`);
      throw new ApiError('network', `${method} ${path} ${what}`);
    }
  }

  private isTokenProblem(response: AxiosResponse): boolean {
    const challenge = parseWwwAuthenticate(response.headers['www-authenticate']);
    if (challenge.error === 'insufficient_user_authentication') return false;
    const data = response.data as { error?: unknown } | undefined;
    // FordConnect Query's gateway sometimes answers an expired token with an HTML page and no challenge.
    const htmlPage = typeof response.data === 'string' || response.data === null || response.data === undefined;
    return challenge.error === 'invalid_token' || data?.error === 'invalid_token' || (htmlPage && !challenge.error);
  }

  private toError(method: Method, path: string, response: AxiosResponse): ApiError {
    const status = response.status;
    const challenge = parseWwwAuthenticate(response.headers['www-authenticate']);
    const data = (typeof response.data === 'object' && response.data !== null ? response.data : {}) as Record<string, unknown>;
    const described = describe(data);
    const where = `${method} ${path}`;
    if (status === 401) {
      if (challenge.error === 'insufficient_user_authentication') return new ApiError('step-up', `${where}: the provider asks the owner to verify again (${challenge.error_description ?? 'step-up required'})`, status);
      if (this.isTokenProblem(response)) return new ApiError('auth', `${where}: the access token was refused again after a refresh`, status);
      return new ApiError('forbidden', `${where}: ${described ?? 'unauthorized (vehicle not linked to this account, or Application-Id refused)'}`, status);
    }
    if (status === 403) {
      if (challenge.error === 'insufficient_scope' || data.error === 'insufficient_scope') {
        const scope = challenge.scope ?? (typeof data.scope === 'string' ? data.scope : undefined);
        return new ApiError('scope', `${where}: the token lacks the scope ${scope ?? '(unnamed)'}`, status, undefined, scope);
      }
      return new ApiError('forbidden', `${where}: ${described ?? 'forbidden'}`, status);
    }
    if (status === 429) {
      const retry = parseRetryAfter(response.headers['retry-after']) ?? this.options.defaultRetryAfterSeconds ?? 60;
      return new ApiError('rate-limited', `${where}: rate limited, retry after ${retry} s`, status, retry);
    }
    if (status === 404) return new ApiError('not-found', `${where}: ${described ?? 'not found'}`, status);
    if (status === 406) return new ApiError('not-acceptable', `${where}: ${described ?? 'not supported by this vehicle'}`, status);
    if (status >= 500) {
      const retry = parseRetryAfter(response.headers['retry-after']);
      return new ApiError('server', `${where}: the API failed with HTTP ${status}`, status, retry);
    }
    return new ApiError('bad-request', `${where}: ${described ?? `HTTP ${status}`}`, status);
  }
}

/** Errors of the connect phase: the request was never written. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A reset on a reused keep-alive socket (`ClientRequest.reusedSocket`, which axios errors carry as `request`). */
function staleConnection(err: unknown): boolean {
  const e = err as { code?: string; request?: { reusedSocket?: boolean } };
  return e.code === 'ECONNRESET' && e.request?.reusedSocket === true;
}

/** The human part of Ford's various error bodies. */
function describe(data: Record<string, unknown>): string | undefined {
  for (const key of ['errorMessage', 'error_description', 'message']) {
    if (typeof data[key] === 'string' && data[key]) return data[key] as string;
  }
  const nested = data.error as { title?: unknown; statusCode?: unknown } | undefined;
  if (nested && typeof nested === 'object') {
    if (typeof nested.title === 'string') return nested.title;
    if (typeof nested.statusCode === 'string') return nested.statusCode;
  }
  return typeof data.error === 'string' ? data.error : undefined;
}
