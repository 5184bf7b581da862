/**
 * The config node's API presets (DESIGN.md `preset`): where each provider's
 * authorize, token, revoke and API endpoints live, and which wire format.
 */
export type Preset = 'simulator' | 'ford' | 'fordconnect' | 'custom';
export type ApiFlavour = 'fordconnect-v1' | 'fcon-query';

export interface Endpoints {
  apiFlavour: ApiFlavour;
  apiUrl: string;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl?: string;
  /** Extra authorize parameters the provider needs. */
  authorizeParams?: Record<string, string>;
  /** Does this API offer remote commands at all? */
  commands: boolean;
}

export const FORD_APPLICATION_ID = 'afdc085b-377a-4351-b23e-5e1d35fb3700';
export const DEFAULT_SIMULATOR_URL = 'http://127.0.0.1:8370';

/**
 * The simulator serves both of Ford's APIs: `apiFlavour` picks which one the
 * account talks to (FordConnect Query shows an owner exactly what a real Ford
 * account gives them today).
 */
export function presetEndpoints(preset: Preset, simulatorUrl = DEFAULT_SIMULATOR_URL, apiFlavour: ApiFlavour = 'fordconnect-v1'): Endpoints | undefined {
  switch (preset) {
    case 'simulator': {
      const base = simulatorUrl.replace(/\/+$/, '');
      if (apiFlavour === 'fcon-query') {
        return {
          apiFlavour: 'fcon-query',
          apiUrl: `${base}/fcon-query`,
          authorizeUrl: `${base}/fcon-public/v1/auth/init`,
          tokenUrl: `${base}/dah2vb2cprod.onmicrosoft.com/oauth2/v2.0/token?p=B2C_1A_FCON_AUTHORIZE`,
          revokeUrl: `${base}/oauth2/v2.0/revoke`,
          commands: false,
        };
      }
      return {
        apiFlavour: 'fordconnect-v1',
        apiUrl: `${base}/api/fordconnect`,
        authorizeUrl: `${base}/oauth2/v2.0/authorize`,
        tokenUrl: `${base}/oauth2/v2.0/token`,
        revokeUrl: `${base}/oauth2/v2.0/revoke`,
        commands: true,
      };
    }
    case 'fordconnect':
      return {
        apiFlavour: 'fordconnect-v1',
        apiUrl: 'https://api.mps.ford.com/api/fordconnect',
        authorizeUrl: 'https://fordconnect.cv.ford.com/common/login/',
        tokenUrl: 'https://dah2vb2cprod.b2clogin.com/914d88b1-3523-4bf6-9be4-1b96b4f6f919/oauth2/v2.0/token?p=B2C_1A_signup_signin_common',
        authorizeParams: { make: 'F', application_id: FORD_APPLICATION_ID },
        commands: true,
      };
    case 'ford':
      return {
        apiFlavour: 'fcon-query',
        apiUrl: 'https://api.vehicle.ford.com/fcon-query',
        authorizeUrl: 'https://api.vehicle.ford.com/fcon-public/v1/auth/init',
        tokenUrl: 'https://api.vehicle.ford.com/dah2vb2cprod.onmicrosoft.com/oauth2/v2.0/token?p=B2C_1A_FCON_AUTHORIZE',
        commands: false,
      };
    case 'custom':
      return undefined;
  }
}
