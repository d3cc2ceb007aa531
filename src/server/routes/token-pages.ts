import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { badRequest } from '../../lib/errors.ts';
import { tokenList, tokensPage } from '../../../web/views/tokens-page.ts';
import { actorOf, principalOf, type AppContext, type AppEnv } from '../context.ts';
import type { Assets } from '../assets.ts';
import { fragmentOrPage, pageProps, serverUrl } from '../page-props.ts';
import { readForm } from '../request-body.ts';

export function tokenPages(app: App, assets: Assets) {
  const routes = new Hono<AppEnv>();

  const render = (c: AppContext, created?: string) => {
    const { user, csrfToken = '' } = principalOf(c);
    const tokens = app.tokens.list(user);
    const now = app.now();
    return fragmentOrPage(
      c,
      () => tokenList({ tokens, now, csrfToken, ...(created && { created }) }),
      () =>
        tokensPage({
          ...pageProps(c, assets, 'settings', 'API tokens'),
          tokens,
          now,
          serverUrl: serverUrl(c, app),
          ...(created && { created }),
        }),
    );
  };

  routes.get('/settings/tokens', (c) => render(c));

  routes.post('/settings/tokens', async (c) => {
    const form = await readForm(c);
    const { secret } = app.tokens.create(
      principalOf(c).user,
      { name: form.name ?? '', scope: form.scope === 'read' ? 'read' : 'write', ...(form.expiresIn && { expiresIn: form.expiresIn }) },
      actorOf(c),
    );
    return render(c, secret);
  });

  routes.post('/settings/tokens/:id/revoke', (c) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id)) throw badRequest('token id must be a number');
    app.tokens.revoke(principalOf(c).user, id, actorOf(c));
    return render(c);
  });

  return routes;
}
