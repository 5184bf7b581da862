import { Router, type Request, type Response } from 'express';
import { html, page } from '../html';
import { parseAllowList } from '../ip-allow-list';
import type { Grant } from '../oauth/store';
import type { World } from '../world';
import { loginUrl } from './login';
import { appsPage, isAppsNotice } from './apps-page';
import { auditFilterFrom, auditPage } from './audit-page';
import { alertsPage } from './alerts-page';
import { revokeAsOwner } from './revoke-app';

/** The owner's pages: Connected Apps (revoke, IP allow-list), audit log, alerts. */
export function ownerRouter(world: World): Router {
  const router = Router();

  /** The signed-in owner, or a redirect to sign in (and back, for pages a GET can reach again). */
  const signedIn = (req: Request, res: Response): string | undefined => {
    const ownerId = world.sessions.ownerId(req);
    if (ownerId) return ownerId;
    if (req.method === 'GET' || req.method === 'HEAD') res.redirect(302, loginUrl(req));
    // After sign-in a POST target cannot be replayed as a GET: land on the apps page instead.
    else res.redirect(303, `/owner/login?next=${encodeURIComponent('/owner/apps')}`);
    return undefined;
  };

  /** Only the signed-in owner's own grants exist for them; anything else is a plain 404. */
  const ownGrant = (ownerId: string, req: Request, res: Response): Grant | undefined => {
    const grant = world.store.grants.get(String(req.params.grantId));
    if (grant && grant.ownerId === ownerId) return grant;
    res
      .status(404)
      .type('html')
      .send(page('Not found', html`<div class="card"><h1>No such app</h1><p><a href="/owner/apps">Back to connected apps</a></p></div>`, { nav: true }));
    return undefined;
  };

  /**
   * SameSite=Lax still lets another port on the same host (same site) post
   * these forms; a browser always sends Origin on a POST, so insist it is ours.
   */
  const sameOrigin = (req: Request, res: Response): boolean => {
    const origin = req.get('origin');
    let ok = origin === undefined;
    if (origin !== undefined) {
      try {
        ok = new URL(origin).host === req.get('host');
      } catch {
        ok = false;
      }
    }
    if (!ok) res.status(403).type('html').send(page('Refused', html`<div class="card"><h1>Refused</h1><p>This form can only be sent from the simulator's own pages.</p></div>`));
    return ok;
  };

  const noStore = (res: Response): void => {
    // Owner pages are personal: no shared or back-button caches.
    res.set('Cache-Control', 'no-store');
  };

  router.get('/owner', (_req, res) => res.redirect(302, '/owner/apps'));

  router.get('/owner/apps', (req, res) => {
    const ownerId = signedIn(req, res);
    if (!ownerId) return;
    noStore(res);
    res.type('html').send(appsPage(world, ownerId, { notice: isAppsNotice(req.query.notice) ? req.query.notice : undefined }));
  });

  router.post('/owner/apps/:grantId/revoke', (req, res) => {
    const ownerId = signedIn(req, res);
    if (!ownerId || !sameOrigin(req, res)) return;
    const grant = ownGrant(ownerId, req, res);
    if (!grant) return;
    revokeAsOwner(world, grant, req.ip, 'Connected Apps page');
    res.redirect(303, '/owner/apps?notice=revoked');
  });

  router.post('/owner/apps/:grantId/ip-allow-list', (req, res) => {
    const ownerId = signedIn(req, res);
    if (!ownerId || !sameOrigin(req, res)) return;
    const grant = ownGrant(ownerId, req, res);
    if (!grant) return;
    if (grant.revokedAt !== undefined) {
      // Nothing to protect any more; the list of a revoked grant stays as it was.
      res.redirect(303, '/owner/apps');
      return;
    }
    const raw = (req.body as Record<string, unknown> | undefined)?.ipAllowList;
    const text = typeof raw === 'string' ? raw : '';
    // A missing field is refused rather than read as "any address": clearing protection must be deliberate.
    const parsed = typeof raw === 'string' ? parseAllowList(text) : { ok: false as const, error: 'The form sent no ipAllowList field.' };
    if (!parsed.ok) {
      noStore(res);
      res.status(400).type('html').send(appsPage(world, ownerId, { error: { grantId: grant.id, text, message: parsed.error } }));
      return;
    }
    grant.ipAllowList = parsed.entries;
    world.audit.record({
      ownerId,
      clientId: grant.clientId,
      action: 'auth.ip-allow-list',
      outcome: 'ok',
      detail: `Owner set the IP allow-list to ${parsed.entries.length === 0 ? 'any address' : parsed.entries.join(', ')}`,
      ip: req.ip,
    });
    res.redirect(303, '/owner/apps?notice=saved');
  });

  router.get('/owner/audit', (req, res) => {
    const ownerId = signedIn(req, res);
    if (!ownerId) return;
    noStore(res);
    res.type('html').send(auditPage(world, ownerId, auditFilterFrom(req.query as Record<string, unknown>)));
  });

  router.get('/owner/alerts', (req, res) => {
    const ownerId = signedIn(req, res);
    if (!ownerId) return;
    noStore(res);
    res.type('html').send(alertsPage(world, ownerId));
  });

  return router;
}
