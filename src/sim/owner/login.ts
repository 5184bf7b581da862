import { Router, type Request } from 'express';
import { html, page } from '../html';
import type { World } from '../world';

/** Only same-site paths, so the login form cannot be used as an open redirect. */
export function safeNext(value: unknown, fallback = '/owner/apps'): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.includes('\\') ? value : fallback;
}

export function loginUrl(req: Request): string {
  return `/owner/login?next=${encodeURIComponent(req.originalUrl)}`;
}

function loginPage(next: string, error?: string): string {
  return page(
    'Sign in',
    html`<div class="card"><h1>Sign in to your Ford account</h1>
      ${error ? html`<p class="error">${error}</p>` : ''}
      <form method="post" action="/owner/login">
        <input type="hidden" name="next" value="${next}">
        <label>Email <input type="email" name="email" autocomplete="username" required autofocus></label>
        <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
        <p><button type="submit">Sign in</button></p>
      </form>
      <p class="muted">Demo accounts: <code>owner@example.com</code>, <code>partner@example.com</code>, <code>fleet@example.com</code>, password <code>demo</code>.</p></div>`,
  );
}

export function loginRouter(world: World): Router {
  const router = Router();
  router.get('/owner/login', (req, res) => {
    res.type('html').send(loginPage(safeNext(req.query.next)));
  });
  router.post('/owner/login', (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body.next);
    const owner = typeof body.email === 'string' ? world.store.ownerByEmail(body.email) : undefined;
    if (!owner || owner.password !== body.password) {
      res.status(401).type('html').send(loginPage(next, 'Email or password is not right.'));
      return;
    }
    world.sessions.signIn(res, owner.id);
    res.redirect(303, next);
  });
  router.post('/owner/logout', (req, res) => {
    world.sessions.signOut(req, res);
    res.redirect(303, '/owner/login');
  });
  return router;
}
