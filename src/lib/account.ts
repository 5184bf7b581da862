import { EventEmitter } from 'node:events';
import { AuditFile, AuditRing, auditRecord, type AuditInput, type AuditRecord } from './audit';
import { FconQueryApi } from './api/fcon-query';
import { FordConnectV1Api } from './api/fordconnect-v1';
import { HttpClient } from './api/http-client';
import { FORD_APPLICATION_ID, presetEndpoints, type ApiFlavour, type Endpoints, type Preset } from './api/presets';
import type { VehicleApi } from './api/vehicle-api';
import { effectiveScopes, type Scope } from './scopes';
import { ReauthorizationNeededError, TokenManager, type AuthState, type GrantKind, type TokenManagerOptions } from './oauth/token-manager';
import { TokenStore } from './oauth/token-store';

/** The ford-account settings as the editor saves them (DESIGN.md node properties). */
export interface AccountConfig {
  id: string;
  name?: string;
  preset: Preset;
  apiFlavour?: ApiFlavour;
  apiUrl?: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  revokeUrl?: string;
  grant: GrantKind;
  redirectUri: string;
  scopes: string[];
  auditFile?: string;
  clientId: string;
  clientSecret: string;
}

export interface AccountEnvironment {
  /** Directory for token files (the Node-RED user dir's ford-connect/). */
  tokenDir: string;
  credentialSecret?: string;
  simulatorUrl?: string;
  now?: () => number;
}

/** Resolves the preset, letting `custom` (and explicit URLs under it) decide. */
export function resolveEndpoints(config: Pick<AccountConfig, 'preset' | 'apiFlavour' | 'apiUrl' | 'authorizeUrl' | 'tokenUrl' | 'revokeUrl'>, simulatorUrl?: string): Endpoints {
  const preset = presetEndpoints(config.preset, simulatorUrl, config.apiFlavour);
  if (preset) return preset;
  if (!config.apiUrl || !config.authorizeUrl || !config.tokenUrl) throw new Error('a custom preset needs API, authorize and token URLs');
  return {
    apiFlavour: config.apiFlavour ?? 'fordconnect-v1',
    apiUrl: config.apiUrl,
    authorizeUrl: config.authorizeUrl,
    tokenUrl: config.tokenUrl,
    revokeUrl: config.revokeUrl || undefined,
    commands: (config.apiFlavour ?? 'fordconnect-v1') === 'fordconnect-v1',
  };
}

/** FordConnect Query speaks Ford's B2C dialect wherever it is served (Ford, or the simulator's copy). */
function isFconQuery(config: Pick<AccountConfig, 'preset' | 'apiFlavour'>): boolean {
  return config.preset === 'ford' || (config.preset !== 'fordconnect' && config.apiFlavour === 'fcon-query');
}

/** What the scopes parameter of the authorize request carries for a provider. */
export function requestScopes(config: Pick<AccountConfig, 'preset' | 'scopes' | 'clientId' | 'apiFlavour'>): string[] {
  if (config.preset === 'fordconnect') return ['access'];
  if (isFconQuery(config)) return [config.clientId, 'offline_access', 'openid'];
  return [...config.scopes];
}

export function buildTokenManager(config: AccountConfig, env: AccountEnvironment, hooks: Pick<TokenManagerOptions, 'onRefresh' | 'onPersistError'> = {}): TokenManager {
  const endpoints = resolveEndpoints(config, env.simulatorUrl);
  return new TokenManager({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    grant: config.grant,
    authorizeUrl: endpoints.authorizeUrl,
    tokenUrl: endpoints.tokenUrl,
    revokeUrl: endpoints.revokeUrl,
    redirectUri: config.redirectUri,
    requestScopes: requestScopes(config),
    extraAuthorizeParams: endpoints.authorizeParams,
    store: new TokenStore(env.tokenDir, config.id, env.credentialSecret),
    now: env.now,
    ...hooks,
  });
}

/** Ford's single all-access scope, in each spelling its token endpoints use. */
export function fordAllAccess(config: Pick<AccountConfig, 'preset' | 'clientId' | 'apiFlavour'>): (scope: string) => boolean {
  if (!isFconQuery(config) && config.preset !== 'fordconnect') return () => false;
  return (scope) => scope === 'access' || scope.endsWith('/access') || scope === config.clientId;
}

/**
 * One Ford account: its tokens, what it may do, its API client and its audit
 * sinks. Emits `state` when the authorization changes and `audit` per record.
 */
export class FordAccount extends EventEmitter {
  readonly endpoints: Endpoints;
  private tokenManager: TokenManager;
  readonly auditRing = new AuditRing();
  private readonly auditFile?: AuditFile;
  private lastState: AuthState;
  private api?: VehicleApi;
  /**
   * The API asked for a fresh owner sign-in (RFC 9470): the next
   * authorization asks the provider for one (`max_age=0`), or a still-open
   * provider session would give a token that is just as stale.
   */
  stepUpRequested = false;

  constructor(
    readonly config: AccountConfig,
    private readonly env: AccountEnvironment,
  ) {
    super();
    this.endpoints = resolveEndpoints(config, env.simulatorUrl);
    this.tokenManager = buildTokenManager(config, env, this.tokenHooks());
    this.lastState = this.tokens.state;
    if (config.auditFile) this.auditFile = new AuditFile(config.auditFile, (err) => this.emit('warning', `audit file: ${err.message}`));
  }

  get tokens(): TokenManager {
    return this.tokenManager;
  }

  get state(): AuthState {
    return this.tokens.state;
  }

  /** Ticked in the node ∩ granted in the token. */
  grantedScopes(): Scope[] {
    if (this.tokens.state !== 'authorized') return [];
    return effectiveScopes(this.config.scopes, this.tokens.grantedScopes, fordAllAccess(this.config));
  }

  can(scope: Scope): boolean {
    return this.grantedScopes().includes(scope);
  }

  vehicleApi(): VehicleApi {
    if (!this.api) {
      const http = new HttpClient({
        baseUrl: this.endpoints.apiUrl,
        tokens: {
          getAccessToken: () => this.watch(() => this.tokens.getAccessToken()),
          tokenAfterRejection: (rejected) => this.watch(() => this.tokens.tokenAfterRejection(rejected)),
        },
        headers: this.endpoints.apiFlavour === 'fordconnect-v1' ? { 'Application-Id': FORD_APPLICATION_ID, 'api-version': '2020-06-01' } : {},
      });
      this.api = this.endpoints.apiFlavour === 'fcon-query' ? new FconQueryApi(http) : new FordConnectV1Api(http);
    }
    return this.api;
  }

  /** Re-reads the token file after the admin callback stored new tokens. */
  reloadTokens(): void {
    const scopesBefore = this.grantedScopes().join(' ');
    // The old manager may be mid-refresh: its answer must not overwrite the new tokens.
    this.tokenManager.retire();
    this.stepUpRequested = false;
    this.tokenManager = buildTokenManager(this.config, this.env, this.tokenHooks());
    this.api = undefined;
    this.noticeState();
    // A new authorization may grant other scopes: nodes re-check what they may do.
    if (this.state === 'authorized' && this.grantedScopes().join(' ') !== scopesBefore) this.emit('state', this.state);
  }

  private tokenHooks(): Pick<TokenManagerOptions, 'onRefresh' | 'onPersistError'> {
    return {
      onRefresh: (outcome, detail) => {
        this.audit({ nodeId: this.config.id, nodeType: 'ford-account', nodeName: this.config.name, action: 'token.refresh', outcome, detail });
      },
      onPersistError: (err) => this.emit('warning', `the rotated tokens could not be saved (${err.message}); they are kept in memory and saved again on the next call`),
    };
  }

  audit(input: AuditInput): AuditRecord {
    const record = auditRecord(input, new Date(this.env.now ? this.env.now() : Date.now()));
    this.auditRing.add(record);
    void this.auditFile?.append(record);
    this.emit('audit', record);
    return record;
  }

  async flushAudit(): Promise<void> {
    await this.auditFile?.flush();
  }

  private async watch<T>(get: () => Promise<T>): Promise<T> {
    try {
      return await get();
    } catch (err) {
      if (err instanceof ReauthorizationNeededError) this.noticeState();
      throw err;
    } finally {
      if (this.tokens.state === 'authorized') this.noticeState();
    }
  }

  /** Emits `state` once per change, and one `auth.revoked` record when the grant is gone. */
  noticeState(): void {
    const state = this.tokens.state;
    if (state === this.lastState) return;
    this.lastState = state;
    if (state === 'reauth-needed') {
      this.audit({ nodeId: this.config.id, nodeType: 'ford-account', nodeName: this.config.name, action: 'auth.revoked', outcome: 'denied', detail: `re-authorization needed: ${this.tokens.reauthorizationReason ?? 'grant revoked'}` });
    }
    this.emit('state', state);
  }
}
