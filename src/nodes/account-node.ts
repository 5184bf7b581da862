/** What ford-account shares with the nodes that use it and with its admin endpoints. */
import os from 'node:os';
import path from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { FordAccount, AccountConfig, AccountEnvironment } from '../lib/account';
import type { Preset } from '../lib/api/presets';
import type { GrantKind } from '../lib/oauth/token-manager';

export interface FordAccountDef extends NodeDef {
  preset: Preset;
  apiFlavour?: AccountConfig['apiFlavour'];
  apiUrl?: string;
  authorizeUrl?: string;
  tokenUrl?: string;
  revokeUrl?: string;
  grant: GrantKind;
  redirectUri: string;
  scopes: string[] | string;
  auditFile?: string;
}

export interface FordAccountCredentials {
  clientId?: string;
  clientSecret?: string;
}

/** A node that shows the account's authorization state (register / deregister, as mqtt-broker clients do). */
export interface AccountDependent {
  onAccountState(state: FordAccount['state']): void;
}

export interface FordAccountNode extends Node<FordAccountCredentials> {
  account?: FordAccount;
  configError?: string;
  register(dependent: AccountDependent): void;
  deregister(dependent: AccountDependent): void;
}

export function accountEnvironment(RED: NodeAPI): AccountEnvironment {
  const settings = RED.settings as unknown as { userDir?: string; credentialSecret?: unknown; fordConnect?: { simulatorUrl?: string } };
  const userDir = settings.userDir ?? path.join(os.homedir(), '.node-red');
  return {
    tokenDir: path.join(userDir, 'ford-connect'),
    credentialSecret: typeof settings.credentialSecret === 'string' ? settings.credentialSecret : undefined,
    simulatorUrl: settings.fordConnect?.simulatorUrl ?? process.env.FORD_SIM_URL,
  };
}

/** Builds the lib config from the node's saved properties and credentials. */
export function accountConfig(id: string, def: Partial<FordAccountDef>, credentials: FordAccountCredentials): AccountConfig {
  const scopes = Array.isArray(def.scopes) ? def.scopes : typeof def.scopes === 'string' && def.scopes ? def.scopes.split(/[\s,]+/) : [];
  return {
    id,
    name: def.name,
    preset: def.preset ?? 'simulator',
    apiFlavour: def.apiFlavour,
    apiUrl: def.apiUrl,
    authorizeUrl: def.authorizeUrl,
    tokenUrl: def.tokenUrl,
    revokeUrl: def.revokeUrl,
    grant: def.grant === 'client_credentials' ? 'client_credentials' : 'authorization_code',
    redirectUri: def.redirectUri ?? '',
    scopes,
    auditFile: def.auditFile || undefined,
    clientId: credentials.clientId ?? '',
    clientSecret: credentials.clientSecret ?? '',
  };
}
