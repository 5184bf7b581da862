import type { Request, Response } from 'express';
import type { SimClock } from '../clock';
import { opaqueToken } from '../oauth/store';

/** Owner sign-in sessions for the consent and owner pages: a random id in an HttpOnly cookie. */
export const SESSION_COOKIE = 'ford_sim_session';

interface Session {
  ownerId: string;
  /** When the owner entered the password, on the simulated clock: the auth_time of what they then consent to (RFC 9470). */
  authTime: number;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(private readonly clock: SimClock) {}

  signIn(res: Response, ownerId: string): void {
    const id = opaqueToken(24);
    this.byId.set(id, { ownerId, authTime: this.clock.now() });
    res.cookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'lax', path: '/' });
  }

  ownerId(req: Request): string | undefined {
    return this.session(req)?.ownerId;
  }

  /** When the signed-in owner last authenticated; undefined when nobody is signed in. */
  authTime(req: Request): number | undefined {
    return this.session(req)?.authTime;
  }

  signOut(req: Request, res: Response): void {
    const id = (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
    if (id) this.byId.delete(id);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
  }

  private session(req: Request): Session | undefined {
    const id = (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
    return id ? this.byId.get(id) : undefined;
  }
}
