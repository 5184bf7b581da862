import { createHash, randomBytes } from 'node:crypto';
import axios from 'axios';
import { AuthorizationCode, ClientCredentials, type AccessToken, type ModuleOptions } from 'simple-oauth2';
import { parseScopeString } from '../scopes';
import type { StoredTokens, TokenStore } from './token-store';

/**
 * Tokens for one ford-account, on simple-oauth2: authorization code + PKCE,
 * client credentials, proactive single-flight refresh, rotation persisted at
 * once, and a hard stop (no retry storm) when the grant is gone.
 */

export type GrantKind = 'authorization_code' | 'client_credentials';

export interface TokenManagerOptions {
  clientId: string;
  clientSecret: string;
  grant: GrantKind;
  authorizeUrl: string;
  /** Whole URL, query string included (Ford's B2C `?p=` policy). */
  tokenUrl: string;
  /** RFC 7009 endpoint; without one, Disconnect only forgets the tokens. */
  revokeUrl?: string;
  redirectUri: string;
  /** Scopes to ask for (the ones ticked in the node, plus what the provider needs). */
  requestScopes: string[];
  store: TokenStore;
  /**
   * Refresh up to this long before expiry, so a request never leaves with a
   * token about to die; never more than a tenth of the token's lifetime, or
   * a short-lived token would be refreshed before every call.
   */
  refreshMarginSeconds?: number;
  now?: () => number;
  /** Extra authorize parameters a provider needs (Ford's `make`, `application_id`). */
  extraAuthorizeParams?: Record<string, string>;
  /** Told about every refresh, for the audit log; never given a token. */
  onRefresh?: (outcome: 'ok' | 'failed', detail: string) => void;
  /** The token file could not be written; the tokens stay in memory and the save is retried. */
  onPersistError?: (err: Error) => void;
}

export type AuthState = 'unauthorized' | 'authorized' | 'reauth-needed';

export interface PendingAuthorization {
  url: string;
  state: string;
  codeVerifier: string;
}

/** An OAuth error from the provider, with its code (`invalid_grant`…) and HTTP status. */
export class OAuthError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'OAuthError';
  }
}

/** The grant is gone (revoked, replayed or expired refresh token): only the owner can fix it. */
export class ReauthorizationNeededError extends Error {
  constructor(readonly reason: string) {
    super(`re-authorization needed: ${reason}`);
    this.name = 'ReauthorizationNeededError';
  }
}

/** As long as the vehicle API's own requests may take. */
export const TOKEN_REQUEST_TIMEOUT_MS = 15_000;

interface BoomLike {
  isBoom?: boolean;
  output?: { statusCode?: number };
  data?: { payload?: unknown };
  message?: string;
  code?: string;
}

/** Turns what simple-oauth2 (Wreck/Boom) throws into an OAuthError without any secret in it. */
export function toOAuthError(err: unknown): OAuthError {
  const e = err as BoomLike;
  if (e.isBoom && e.message === 'Client request timeout') return new OAuthError('timeout', `the token endpoint did not answer within ${TOKEN_REQUEST_TIMEOUT_MS / 1000} s`);
  const status = e.output?.statusCode;
  let payload = e.data?.payload;
  if (Buffer.isBuffer(payload)) payload = payload.toString('utf8');
  if (typeof payload === 'string') {
    try {
      payload = JSON.parse(payload);
    } catch {
      // An HTML error page: keep only the status.
    }
  }
  if (payload && typeof payload === 'object') {
    const body = payload as { error?: unknown; error_description?: unknown };
    if (typeof body.error === 'string') {
      const description = typeof body.error_description === 'string' ? body.error_description : body.error;
      return new OAuthError(body.error, description, status);
    }
  }
  if (status) return new OAuthError('http_error', `the token endpoint answered HTTP ${status}`, status);
  return new OAuthError(e.code ?? 'network_error', `the token endpoint could not be reached (${e.code ?? e.message ?? 'unknown error'})`);
}

function splitUrl(url: string): { host: string; path: string } {
  const u = new URL(url);
  return { host: u.origin, path: `${u.pathname}${u.search}` };
}

/** Ford's login proxy refuses a state longer than 16 characters or outside [0-9a-f]. */
export function newState(): string {
  return randomBytes(8).toString('hex');
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A tenth of a token's lifetime: its margin, so a 2 s token is used for 1.8 s and a 20 min one for 19 min. */
const MARGIN_SHARE_OF_LIFETIME = 0.1;

/**
 * Refreshes under way, by token file. A redeployed account's old manager may
 * still be following a command while the new one reads the same file: they
 * take turns, and each adopts what the other stored, because a refresh token
 * used twice makes the provider revoke the whole grant (RFC 9700 §4.14.2).
 */
const refreshesByFile = new Map<string, Promise<unknown>>();

/**
 * Rotated tokens that could not be saved, by token file: newer than the
 * file, so a manager built for that file meanwhile (a redeploy) starts from
 * them, not from the spent refresh token on disk.
 */
const unsavedByFile = new Map<string, StoredTokens>();

/** Which tokens a file holds, to tell whether someone else wrote it: the refresh token, else the access token. */
function identity(tokens: StoredTokens | undefined): string | null {
  return tokens ? (tokens.refreshToken ?? tokens.accessToken) : null;
}

export class TokenManager {
  private tokens?: StoredTokens;
  private reauthReason?: string;
  private refreshing?: Promise<StoredTokens>;
  private readonly now: () => number;
  private readonly marginMs: number;

  /** Counted for tests and the editor: how many times the provider was asked for a token. */
  refreshCount = 0;

  /** Bumped by disconnect and retire: authorizations started before are dropped. */
  private generation = 0;
  private unsaved = false;
  /** What this manager last saw in the token file (see {@link identity}); null: no file. */
  private fileIdentity: string | null = null;

  constructor(private readonly options: TokenManagerOptions) {
    this.now = options.now ?? (() => Date.now());
    this.marginMs = (options.refreshMarginSeconds ?? 60) * 1000;
    try {
      this.tokens = options.store.load();
      this.fileIdentity = identity(this.tokens);
    } catch (err) {
      // A corrupt file, or one sealed under another credentialSecret: authorizing again replaces it.
      this.reauthReason = `the stored tokens could not be read (${(err as Error).message}); authorize again`;
    }
    const unsaved = unsavedByFile.get(options.store.file);
    if (unsaved) {
      this.tokens = unsaved;
      this.unsaved = true;
      this.reauthReason = undefined;
    }
  }

  get state(): AuthState {
    if (this.reauthReason) return 'reauth-needed';
    return this.tokens ? 'authorized' : 'unauthorized';
  }

  get reauthorizationReason(): string | undefined {
    return this.reauthReason;
  }

  /** What the provider granted, as it named it (undefined: it did not say). */
  get grantedScopes(): string[] | undefined {
    return this.tokens?.grantedScopes;
  }

  get expiresAt(): number | undefined {
    return this.tokens?.expiresAt;
  }

  get authorizedAt(): number | undefined {
    return this.tokens?.authorizedAt;
  }

  private config(withAuthorize = true): ModuleOptions {
    const token = splitUrl(this.options.tokenUrl);
    const auth: ModuleOptions['auth'] = { tokenHost: token.host, tokenPath: token.path };
    if (withAuthorize) {
      const authorize = splitUrl(this.options.authorizeUrl);
      auth.authorizeHost = authorize.host;
      auth.authorizePath = authorize.path;
    }
    // Ford takes the secret in the form body. Wreck has no timeout of its own, and a token request
    // that never answers would hold every manager of the file waiting for its turn.
    return { client: { id: this.options.clientId, secret: this.options.clientSecret }, auth, options: { authorizationMethod: 'body' }, http: { timeout: TOKEN_REQUEST_TIMEOUT_MS } };
  }

  /** The URL to send the owner's browser to; keep `state` and `codeVerifier` for the callback. */
  beginAuthorization(extraParams: Record<string, string> = {}): PendingAuthorization {
    const { verifier, challenge } = pkcePair();
    const state = newState();
    const client = new AuthorizationCode(this.config());
    const url = client.authorizeURL({
      redirect_uri: this.options.redirectUri,
      scope: this.options.requestScopes,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...this.options.extraAuthorizeParams,
      ...extraParams,
    } as Parameters<AuthorizationCode['authorizeURL']>[0]);
    return { url, state, codeVerifier: verifier };
  }

  /** Exchanges the code from the callback (or the pasted redirect URL) for tokens and stores them. */
  async completeAuthorization(code: string, codeVerifier: string): Promise<StoredTokens> {
    const client = new AuthorizationCode(this.config());
    const generation = this.generation;
    let token: AccessToken;
    try {
      token = await client.getToken({ code, redirect_uri: this.options.redirectUri, code_verifier: codeVerifier } as Parameters<AuthorizationCode['getToken']>[0]);
    } catch (err) {
      throw toOAuthError(err);
    }
    return this.acceptAuthorization(this.tokensFrom(token.token, undefined), generation);
  }

  /** Client credentials (fleet accounts): no browser, no refresh token. */
  authorizeClientCredentials(): Promise<StoredTokens> {
    return this.clientCredentials(false);
  }

  /** As a refresh (`asRefresh`), it must not bring back a file Disconnect removed meanwhile. */
  private async clientCredentials(asRefresh: boolean): Promise<StoredTokens> {
    const generation = this.generation;
    const client = new ClientCredentials(this.config(false));
    let token: AccessToken;
    try {
      this.refreshCount++;
      token = await client.getToken({ scope: this.options.requestScopes });
    } catch (err) {
      const error = toOAuthError(err);
      this.options.onRefresh?.('failed', `client credentials: ${error.message}`);
      throw error;
    }
    return asRefresh ? this.acceptRefresh(this.tokensFrom(token.token, this.tokens)) : this.acceptAuthorization(this.tokensFrom(token.token, undefined), generation);
  }

  /**
   * A valid access token, refreshed first when it is about to expire. Any
   * number of concurrent callers share one refresh.
   */
  async getAccessToken(): Promise<string> {
    if (this.reauthReason) throw new ReauthorizationNeededError(this.reauthReason);
    if (!this.tokens) throw new ReauthorizationNeededError('not authorized yet');
    if (this.unsaved) {
      // Another manager may have saved newer tokens meanwhile: never write older ones over them.
      this.adoptNewerStoredTokens();
      if (this.unsaved) this.persist();
    }
    if (!this.refreshDue(this.tokens)) return this.tokens.accessToken;
    return (await this.refresh()).accessToken;
  }

  private refreshDue(tokens: StoredTokens): boolean {
    // Token files written before `issuedAt` existed get the full margin.
    const lifetime = tokens.issuedAt === undefined ? Infinity : tokens.expiresAt - tokens.issuedAt;
    const margin = Math.min(this.marginMs, lifetime * MARGIN_SHARE_OF_LIFETIME);
    return tokens.expiresAt - margin <= this.now();
  }

  /**
   * After a 401 with the token the caller used: refresh once, unless another
   * caller already replaced that token.
   */
  async tokenAfterRejection(rejected: string): Promise<string> {
    if (this.reauthReason) throw new ReauthorizationNeededError(this.reauthReason);
    if (this.tokens && this.tokens.accessToken !== rejected) return this.tokens.accessToken;
    return (await this.refresh()).accessToken;
  }

  refresh(): Promise<StoredTokens> {
    if (!this.refreshing) {
      this.refreshing = this.refreshInTurn().finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  /** Waits for any other manager of the same file, then refreshes only if what it stored is not good enough. */
  private async refreshInTurn(): Promise<StoredTokens> {
    const file = this.options.store.file;
    for (let other = refreshesByFile.get(file); other; other = refreshesByFile.get(file)) {
      await other.catch(() => undefined);
    }
    if (!this.tokens) throw new ReauthorizationNeededError('disconnected while waiting to refresh');
    const adopted = this.adoptNewerStoredTokens();
    if (adopted && !this.refreshDue(adopted)) return adopted;
    const mine = this.doRefresh();
    refreshesByFile.set(file, mine);
    try {
      return await mine;
    } finally {
      if (refreshesByFile.get(file) === mine) refreshesByFile.delete(file);
    }
  }

  /**
   * Takes what another manager of this file wrote since this one last looked
   * (a rotation: the refresh token held here is spent). A file gone since
   * means Disconnect: the tokens are dropped, not refreshed.
   */
  private adoptNewerStoredTokens(): StoredTokens | undefined {
    if (!this.tokens) return undefined;
    const newer = this.writtenByOthers();
    if (newer === undefined) return undefined;
    if (newer === null) this.forget('the tokens were removed (disconnected)');
    return this.take(newer.tokens, newer.unsaved);
  }

  /**
   * What someone else wrote for this file since this manager last looked:
   * undefined when nothing (or nothing can be told), null when the file was
   * removed (Disconnect). Rotated tokens another manager could not save are
   * newer than the file; with none pending, the file is the last word.
   */
  private writtenByOthers(): { tokens: StoredTokens; unsaved: boolean } | null | undefined {
    const mine = identity(this.tokens);
    const pending = unsavedByFile.get(this.options.store.file);
    if (pending) return identity(pending) === mine ? undefined : { tokens: pending, unsaved: true };
    const stored = this.readFile();
    if (stored === undefined) return undefined;
    // Unsaved here with nothing pending: another manager saved since (or Disconnect cleared the file).
    const lastSeen = this.unsaved ? mine : this.fileIdentity;
    if (identity(stored.tokens) === lastSeen) return undefined;
    return stored.tokens ? { tokens: stored.tokens, unsaved: false } : null;
  }

  private take(tokens: StoredTokens, unsaved: boolean): StoredTokens {
    this.tokens = tokens;
    this.unsaved = unsaved;
    if (!unsaved) this.fileIdentity = identity(tokens);
    this.reauthReason = undefined;
    return tokens;
  }

  /** The token file now; undefined when it cannot be read (then nothing is concluded from it). */
  private readFile(): { tokens: StoredTokens | undefined } | undefined {
    try {
      return { tokens: this.options.store.load() };
    } catch {
      return undefined;
    }
  }

  private forget(reason: string): never {
    this.tokens = undefined;
    this.fileIdentity = null;
    throw new ReauthorizationNeededError(reason);
  }

  private async doRefresh(): Promise<StoredTokens> {
    const current = this.tokens;
    if (!current) throw new ReauthorizationNeededError('not authorized yet');
    if (this.options.grant === 'client_credentials') return this.clientCredentials(true);
    if (!current.refreshToken) return this.needReauthorization('the provider gave no refresh token');
    const client = new AuthorizationCode(this.config());
    const token = client.createToken({ access_token: current.accessToken, refresh_token: current.refreshToken, token_type: current.tokenType });
    this.refreshCount++;
    let fresh: AccessToken;
    try {
      fresh = await token.refresh();
    } catch (err) {
      const error = toOAuthError(err);
      this.options.onRefresh?.('failed', `${error.code}: ${error.message}`);
      if (!this.tokens) throw new ReauthorizationNeededError('disconnected');
      if (error.code === 'invalid_grant' || error.code === 'unauthorized_client' || error.code === 'invalid_client') {
        return this.needReauthorization(`${error.code}: ${error.message}`);
      }
      throw error;
    }
    const stored = this.acceptRefresh(this.tokensFrom(fresh.token, current));
    this.options.onRefresh?.('ok', 'access token refreshed');
    return stored;
  }

  private needReauthorization(reason: string): never {
    this.reauthReason = reason;
    // Dead tokens must not reach the next manager of this file as "unsaved and newer".
    const pending = unsavedByFile.get(this.options.store.file);
    if (pending && identity(pending) === identity(this.tokens)) unsavedByFile.delete(this.options.store.file);
    throw new ReauthorizationNeededError(reason);
  }

  /** A token answer as stored: `previous` is what a refresh started from (undefined: a new authorization). */
  private tokensFrom(raw: Record<string, unknown>, previous: StoredTokens | undefined): StoredTokens {
    // Ford answers with only an id_token when asked for `openid offline_access` alone: that is the bearer.
    const accessToken = typeof raw.access_token === 'string' ? raw.access_token : typeof raw.id_token === 'string' ? raw.id_token : undefined;
    if (!accessToken) throw new OAuthError('invalid_response', 'the token endpoint answered without a token');
    const expiresIn = Number(raw.expires_in);
    const scope = parseScopeString(raw.scope);
    return {
      accessToken,
      tokenType: typeof raw.token_type === 'string' ? raw.token_type : 'Bearer',
      issuedAt: this.now(),
      expiresAt: this.now() + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 1200) * 1000,
      // Keep the old refresh token when the provider does not rotate it.
      refreshToken: typeof raw.refresh_token === 'string' ? raw.refresh_token : previous?.refreshToken,
      grantedScopes: scope.length > 0 ? scope : previous?.grantedScopes,
      authorizedAt: previous ? previous.authorizedAt : this.now(),
    };
  }

  /** A new authorization: dropped when this manager was disconnected or replaced while it ran. */
  private acceptAuthorization(tokens: StoredTokens, generation: number): StoredTokens {
    if (generation !== this.generation) throw new ReauthorizationNeededError('disconnected while the token request was running');
    return this.keep(tokens);
  }

  /**
   * A refresh must not overwrite what someone else wrote meanwhile: a new
   * authorization or a rotation (take that), or Disconnect (stop). Retired
   * or not, when nobody has written since, the provider has rotated: the
   * file must get the new tokens (or the next manager replays the spent
   * refresh token), and the callers waiting get them.
   */
  private acceptRefresh(tokens: StoredTokens): StoredTokens {
    const newer = this.writtenByOthers();
    if (newer === null) this.forget('disconnected while the token request was running');
    if (newer !== undefined) return this.take(newer.tokens, newer.unsaved);
    // This manager's own Disconnect forgot its tokens: they must not come back.
    if (!this.tokens) throw new ReauthorizationNeededError('disconnected while the token request was running');
    return this.keep(tokens);
  }

  private keep(tokens: StoredTokens): StoredTokens {
    // Memory first: the provider has already rotated, so the old refresh token is dead either way.
    this.tokens = tokens;
    this.reauthReason = undefined;
    this.persist();
    return tokens;
  }

  /** Saves now; a failure is reported and retried on the next call, never lost silently. */
  private persist(): void {
    if (!this.tokens) return;
    try {
      this.options.store.save(this.tokens);
      this.unsaved = false;
      this.fileIdentity = identity(this.tokens);
      unsavedByFile.delete(this.options.store.file);
    } catch (err) {
      this.unsaved = true;
      unsavedByFile.set(this.options.store.file, this.tokens);
      this.options.onPersistError?.(err as Error);
    }
  }

  /**
   * The account has a new manager: tokens this one had not started to get
   * (an authorization, client credentials) are dropped. Refreshes still
   * finish, saved only over the file they refreshed from, so work under way
   * keeps a valid token.
   */
  retire(): void {
    this.generation++;
  }

  /** The tokens held now (for replacing them), never for display. */
  currentTokens(): StoredTokens | undefined {
    return this.tokens;
  }

  /** Revokes tokens this account no longer uses (an older authorization) at the provider. */
  async revokeAtProvider(tokens: StoredTokens): Promise<boolean> {
    if (!this.options.revokeUrl) return false;
    if (tokens.refreshToken) await this.revoke(tokens.refreshToken, 'refresh_token');
    await this.revoke(tokens.accessToken, 'access_token');
    return true;
  }

  /** Disconnect: revoke at the provider (RFC 7009) when it can, and forget the tokens either way. */
  async disconnect(): Promise<{ revoked: boolean; error?: string }> {
    const current = this.tokens;
    this.generation++;
    this.tokens = undefined;
    this.reauthReason = undefined;
    this.unsaved = false;
    unsavedByFile.delete(this.options.store.file);
    this.options.store.clear();
    this.fileIdentity = null;
    if (!current) return { revoked: false };
    try {
      // The refresh token first: revoking it ends the whole grant.
      return { revoked: await this.revokeAtProvider(current) };
    } catch (err) {
      return { revoked: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * RFC 7009 is one form POST; done directly because simple-oauth2 can only
   * revoke on the token endpoint's host and insists on a JSON answer.
   */
  private async revoke(token: string, hint: 'access_token' | 'refresh_token'): Promise<void> {
    const body = new URLSearchParams({ token, token_type_hint: hint, client_id: this.options.clientId, client_secret: this.options.clientSecret });
    const response = await axios.post(this.options.revokeUrl as string, body.toString(), {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      timeout: 15_000,
      validateStatus: () => true,
      maxRedirects: 0,
    });
    if (response.status !== 200) throw new OAuthError('revocation_failed', `the revocation endpoint answered HTTP ${response.status}`, response.status);
  }
}
