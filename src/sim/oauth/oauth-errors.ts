import type { Request, Response } from 'express';
import OAuth2Server from '@node-oauth/oauth2-server';

/** OAuth JSON errors (RFC 6749 5.2) and the form-body checks every OAuth endpoint shares. */

export function sendOAuthError(res: Response, status: number, error: string, description: string): void {
  res.set('Cache-Control', 'no-store');
  res.set('Pragma', 'no-cache');
  res.status(status).json({ error, error_description: description });
}

/** A library error as we answer it: invalid_client is always 401 (the client failed to authenticate). */
export function fromLibraryError(err: unknown): { status: number; error: string; description: string } {
  if (err instanceof OAuth2Server.OAuthError) {
    const status = err.name === 'invalid_client' ? 401 : err.code >= 400 && err.code < 600 ? err.code : 500;
    if (status === 500) console.error('ford-sim: oauth server error', err);
    return { status, error: err.name, description: status === 500 ? 'Internal server error' : err.message };
  }
  console.error('ford-sim: unexpected oauth error', err);
  return { status: 500, error: 'server_error', description: 'Internal server error' };
}

/** 405 for the wrong method, as RFC 9110 wants: with the methods that would work. */
export function methodNotAllowed(allow: string) {
  return (_req: Request, res: Response): void => {
    res.set('Allow', allow);
    sendOAuthError(res, 405, 'invalid_request', `Method not allowed: use ${allow}`);
  };
}

/**
 * The form body of an OAuth POST, or undefined after answering 400.
 * RFC 6749 3.2: form-encoded only, and no parameter may appear twice.
 */
export function formBody(req: Request, res: Response): Record<string, string> | undefined {
  if (!req.is('application/x-www-form-urlencoded')) {
    sendOAuthError(res, 400, 'invalid_request', 'Invalid request: content must be application/x-www-form-urlencoded');
    return undefined;
  }
  const body = (req.body ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (typeof value !== 'string') {
      sendOAuthError(res, 400, 'invalid_request', `Invalid request: parameter \`${key}\` must appear once`);
      return undefined;
    }
    out[key] = value;
  }
  return out;
}
