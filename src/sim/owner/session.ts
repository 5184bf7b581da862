import type { Request, Response } from 'express';
import { opaqueToken } from '../oauth/store';

/** Owner sign-in sessions for the consent and owner pages: a random id in an HttpOnly cookie. */
export const SESSION_COOKIE = 'ford_sim_session';

export class Sessions {
  private readonly byId = new Map<string, string>();

  signIn(res: Response, ownerId: string): void {
    const id = opaqueToken(24);
    this.byId.set(id, ownerId);
    res.cookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'lax', path: '/' });
  }

  ownerId(req: Request): string | undefined {
    const id = (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
    return id ? this.byId.get(id) : undefined;
  }

  signOut(req: Request, res: Response): void {
    const id = (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
    if (id) this.byId.delete(id);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
  }
}
