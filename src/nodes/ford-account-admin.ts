import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { buildTokenManager, FordAccount, type AccountConfig } from '../lib/account';
import type { AuditOutcome } from '../lib/audit';
import { escapeHtml } from '../lib/html-escape';
import { ApiError } from '../lib/api/errors';
import { OAuthError, ReauthorizationNeededError, type TokenManager } from '../lib/oauth/token-manager';
import { PendingAuthorizations, parseRedirect } from '../lib/oauth/pending-authorizations';
import { TokenStore, type StoredTokens } from '../lib/oauth/token-store';
import { accountConfig, accountEnvironment, type FordAccountCredentials, type FordAccountDef, type FordAccountNode } from './account-node';

/**
 * Editor endpoints of ford-account. Everything an editor user calls needs
 * `ford-account.read` / `.write`; the OAuth callback is called by the
 * provider's redirect, so it is protected by the single-use `state` and PKCE.
 */
export const ADMIN_BASE = '/ford-connect';
const PASSWORD_PLACEHOLDER = '__PWRD__';

export function registerAccountAdmin(RED: NodeAPI): void {
  const pending = new PendingAuthorizations<AccountConfig>();
  const admin = RED.httpAdmin;
  const read = RED.auth.needsPermission('ford-account.read');
  const write = RED.auth.needsPermission('ford-account.write');

  const deployed = (id: string): FordAccountNode | undefined => {
    const node = RED.nodes.getNode(id) as FordAccountNode | null;
    return node && node.type === 'ford-account' ? node : undefined;
  };

  /**
   * One `auth.grant` record per authorization that finished, was refused or
   * failed, on the account it belongs to (when deployed): who may act for
   * the owner is exactly what an audit trail is for. Never a token or code.
   */
  const auditGrant = (id: string, outcome: AuditOutcome, detail: string): void => {
    const account = deployed(id)?.account;
    account?.audit({ nodeId: id, nodeType: 'ford-account', nodeName: account.config.name, action: 'auth.grant', outcome, detail });
  };
  const grantedText = (manager: TokenManager): string => `granted: ${(manager.grantedScopes ?? []).join(' ') || 'no scopes named'}`;

  /** The dialog's unsaved values, with secrets the editor no longer has taken from the saved credentials. */
  const configFromRequest = (id: string, body: unknown): AccountConfig => {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Partial<FordAccountDef> & FordAccountCredentials;
    const saved = (RED.nodes.getCredentials(id) ?? {}) as FordAccountCredentials;
    // Without dialog values (a script, or Authorize on a deployed node), use the deployed settings.
    const current = deployed(id)?.account?.config;
    if (b.preset === undefined && current) {
      return { ...current, clientId: b.clientId || current.clientId, clientSecret: b.clientSecret && b.clientSecret !== PASSWORD_PLACEHOLDER ? b.clientSecret : current.clientSecret };
    }
    const credentials: FordAccountCredentials = {
      clientId: typeof b.clientId === 'string' && b.clientId ? b.clientId : saved.clientId,
      clientSecret: typeof b.clientSecret === 'string' && b.clientSecret && b.clientSecret !== PASSWORD_PLACEHOLDER ? b.clientSecret : saved.clientSecret,
    };
    const config = accountConfig(id, b, credentials);
    if (!config.clientId) throw new UserError('Enter the client id first.');
    if (config.grant === 'authorization_code' && !config.redirectUri) throw new UserError('Enter the redirect URI registered for this client.');
    return config;
  };

  const envFor = (config: AccountConfig) => {
    const env = accountEnvironment(RED);
    if (config.preset === 'simulator' && config.apiUrl) env.simulatorUrl = config.apiUrl;
    return env;
  };

  /** Stores tokens for the account and tells a deployed node to pick them up. */
  const finish = async (config: AccountConfig, obtain: (manager: TokenManager) => Promise<unknown>) => {
    // A refresh the running node has in flight does not overwrite what this stores: the token
    // manager saves a refresh only over the file it refreshed from.
    const manager = buildTokenManager(config, envFor(config));
    const previous = manager.currentTokens();
    let replaced: StoredTokens | undefined;
    try {
      await obtain(manager);
    } finally {
      // Looked up now: a redeploy during the exchange built another node.
      const account = deployed(config.id)?.account;
      // The running manager may have rotated the old grant meanwhile: that is what is live now.
      replaced = account?.tokens.currentTokens();
      account?.reloadTokens();
    }
    // The old authorization is replaced: end it at the provider too, so no forgotten grant stays live.
    const current = manager.currentTokens()?.refreshToken;
    const old = new Map<string | undefined, StoredTokens>();
    for (const tokens of [previous, replaced]) if (tokens && tokens.refreshToken !== current) old.set(tokens.refreshToken, tokens);
    for (const tokens of old.values()) {
      await manager.revokeAtProvider(tokens).catch((err: Error) => RED.log.warn(`ford-account: the previous authorization could not be revoked (${err.message})`));
    }
    return manager;
  };

  admin.post(`${ADMIN_BASE}/accounts/:id/authorize`, write, async (req: Request, res: Response) => {
    try {
      const id = String(req.params.id);
      const config = configFromRequest(id, req.body);
      if (config.grant === 'client_credentials') {
        let manager: TokenManager;
        try {
          manager = await finish(config, (m) => m.authorizeClientCredentials());
        } catch (err) {
          auditGrant(id, 'failed', `client credentials: ${describe(err)}`);
          throw err;
        }
        auditGrant(id, 'ok', `client credentials; ${grantedText(manager)}`);
        res.json({ connected: true, ...statusOf(manager) });
        return;
      }
      const manager = buildTokenManager(config, envFor(config));
      const live = RED.nodes.getNode(id) as FordAccountNode | null;
      const started = manager.beginAuthorization(live?.account?.stepUpRequested ? { max_age: '0' } : {});
      pending.add(started.state, id, started.codeVerifier, config);
      res.json({ url: started.url });
    } catch (err) {
      sendError(res, err);
    }
  });

  // The provider redirects the owner's browser here.
  admin.get(`${ADMIN_BASE}/auth/callback`, async (req: Request, res: Response) => {
    const q = req.query as Record<string, unknown>;
    const entry = pending.take(q.state);
    if (!entry) {
      page(res, 400, 'Authorization not accepted', 'This link is unknown, already used or expired. Start again with the Authorize button in the ford-account node.');
      return;
    }
    if (typeof q.error === 'string') {
      const why = q.error === 'access_denied' ? 'Access was denied on the consent page.' : `The provider answered: ${q.error}${typeof q.error_description === 'string' ? ` (${q.error_description})` : ''}.`;
      auditGrant(entry.accountId, 'denied', `callback: ${why}`);
      page(res, 400, 'Authorization not completed', `${why} Nothing was changed.`);
      return;
    }
    if (typeof q.code !== 'string' || !q.code) {
      auditGrant(entry.accountId, 'failed', 'callback: the provider sent no authorization code');
      page(res, 400, 'Authorization not completed', 'The provider sent no authorization code. Nothing was changed.');
      return;
    }
    try {
      const code = q.code;
      const manager = await finish(entry.context, (m) => m.completeAuthorization(code, entry.codeVerifier));
      auditGrant(entry.accountId, 'ok', `authorized through the callback; ${grantedText(manager)}`);
      page(res, 200, 'Connected', 'Your Ford account is connected to Node-RED. You can close this tab and return to the editor.');
    } catch (err) {
      auditGrant(entry.accountId, 'failed', `callback: ${describe(err)}`);
      page(res, 400, 'Authorization failed', `${describe(err)} Nothing was changed.`);
    }
  });

  admin.post(`${ADMIN_BASE}/accounts/:id/paste`, write, async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const parsed = parseRedirect((req.body as { url?: unknown } | undefined)?.url);
    if (!parsed) {
      res.status(400).json({ error: 'Paste the whole address the browser was sent to after the consent page (it starts with your redirect URI).' });
      return;
    }
    const entry = pending.take(parsed.state, id);
    if (!entry) {
      auditGrant(id, 'denied', 'pasted redirect refused: it belongs to no authorization started from this node (unknown, already used, expired or another account\'s)');
      res.status(400).json({ error: 'That address does not belong to an authorization started from this node, or it was already used or has expired. Press Authorize again.' });
      return;
    }
    if (parsed.error) {
      const why = parsed.error === 'access_denied' ? 'Access was denied on the consent page.' : `The provider answered: ${parsed.error}.`;
      auditGrant(id, 'denied', `pasted redirect: ${why}`);
      res.status(400).json({ error: why });
      return;
    }
    if (!parsed.code) {
      auditGrant(id, 'failed', 'pasted redirect: the address has no authorization code');
      res.status(400).json({ error: 'The address has no authorization code.' });
      return;
    }
    try {
      const code = parsed.code;
      const manager = await finish(entry.context, (m) => m.completeAuthorization(code, entry.codeVerifier));
      auditGrant(id, 'ok', `authorized through a pasted redirect; ${grantedText(manager)}`);
      res.json({ connected: true, ...statusOf(manager) });
    } catch (err) {
      auditGrant(id, 'failed', `pasted redirect: ${describe(err)}`);
      sendError(res, err);
    }
  });

  admin.get(`${ADMIN_BASE}/accounts/:id`, read, (req: Request, res: Response) => {
    const id = String(req.params.id);
    const node = deployed(id);
    if (node?.account) {
      res.json({ deployed: true, ...statusOfAccount(node.account) });
      return;
    }
    const env = accountEnvironment(RED);
    try {
      const tokens = new TokenStore(env.tokenDir, id, env.credentialSecret).load();
      res.json({ deployed: false, state: tokens ? 'authorized' : 'unauthorized', grantedScopes: tokens?.grantedScopes ?? [], expiresAt: tokens?.expiresAt, authorizedAt: tokens?.authorizedAt });
    } catch (err) {
      res.json({ deployed: false, state: 'reauth-needed', reason: `the stored tokens could not be read (${(err as Error).message})` });
    }
  });

  admin.post(`${ADMIN_BASE}/accounts/:id/disconnect`, write, async (req: Request, res: Response) => {
    const id = String(req.params.id);
    try {
      const node = deployed(id);
      const manager = node?.account ? node.account.tokens : buildTokenManager(configFromRequest(id, req.body), envFor(configFromRequest(id, req.body)));
      const result = await manager.disconnect();
      node?.account?.noticeState();
      res.json({ disconnected: true, revokedAtProvider: result.revoked, warning: result.error });
    } catch (err) {
      sendError(res, err);
    }
  });

  admin.get(`${ADMIN_BASE}/accounts/:id/vehicles`, read, async (req: Request, res: Response) => {
    const node = deployed(String(req.params.id));
    if (!node?.account) {
      res.status(404).json({ error: 'Deploy the ford-account node first, then its vehicles can be listed.' });
      return;
    }
    try {
      const vehicles = await node.account.vehicleApi().listVehicles();
      res.json({ vehicles });
    } catch (err) {
      sendError(res, err);
    }
  });

  admin.get(`${ADMIN_BASE}/accounts/:id/audit`, read, (req: Request, res: Response) => {
    const node = deployed(String(req.params.id));
    res.json({ records: node?.account?.auditRing.list() ?? [] });
  });
}

class UserError extends Error {}

function statusOf(manager: { state: string; grantedScopes?: string[]; expiresAt?: number; authorizedAt?: number }) {
  return { state: manager.state, grantedScopes: manager.grantedScopes ?? [], expiresAt: manager.expiresAt, authorizedAt: manager.authorizedAt };
}

function statusOfAccount(account: FordAccount) {
  return { ...statusOf(account.tokens), effectiveScopes: account.grantedScopes(), reason: account.tokens.reauthorizationReason, commands: account.endpoints.commands };
}

function describe(err: unknown): string {
  if (isReauth(err)) return 'This account is not authorized (or no longer): press Authorize.';
  if (err instanceof OAuthError) return err.code === 'invalid_grant' ? 'The authorization code was refused (already used, expired or issued for another client).' : `The token endpoint refused: ${err.message}.`;
  return err instanceof Error ? err.message : String(err);
}

function sendError(res: Response, err: unknown): void {
  const status = err instanceof UserError ? 400 : err instanceof OAuthError ? 502 : isReauth(err) ? 409 : 500;
  res.status(status).json({ error: describe(err) });
}

function page(res: Response, status: number, title: string, text: string): void {
  res
    .status(status)
    .type('html')
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:system-ui,sans-serif;max-width:40em;margin:3em auto"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`);
}

function isReauth(err: unknown): boolean {
  return err instanceof ReauthorizationNeededError || (err instanceof ApiError && err.kind === 'reauth');
}
