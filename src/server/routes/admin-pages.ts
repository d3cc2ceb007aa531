import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { publicUser } from '../../auth/users.ts';
import { auditPage } from '../../../web/views/audit-page.ts';
import { userList, usersPage } from '../../../web/views/users-page.ts';
import { actorOf, principalOf, requireSiteAdmin, type AppContext, type AppEnv } from '../context.ts';
import type { Assets } from '../assets.ts';
import { fragmentOrPage, pageProps } from '../page-props.ts';
import { readForm } from '../request-body.ts';

const AUDIT_PAGE_SIZE = 100;

const flag = (value: string | undefined) => (value === undefined ? undefined : value === 'true');

export function adminPages(app: App, assets: Assets) {
  const routes = new Hono<AppEnv>();
  routes.use('/admin/*', async (c, next) => {
    requireSiteAdmin(c);
    await next();
  });

  const renderUsers = (c: AppContext) => {
    const users = app.users.list().map(publicUser);
    return fragmentOrPage(
      c,
      () => userList({ users, csrfToken: principalOf(c).csrfToken ?? '' }),
      () => usersPage({ ...pageProps(c, assets, 'admin', 'Users'), users }),
    );
  };

  routes.get('/admin/users', (c) => renderUsers(c));

  routes.post('/admin/users', async (c) => {
    const form = await readForm(c);
    await app.users.create(
      { username: form.username ?? '', password: form.password ?? '', displayName: form.displayName ?? '', isAdmin: flag(form.isAdmin) ?? false },
      actorOf(c),
    );
    return renderUsers(c);
  });

  routes.post('/admin/users/password', async (c) => {
    const form = await readForm(c);
    await app.users.update(form.username ?? '', { password: form.password ?? '' }, actorOf(c));
    return renderUsers(c);
  });

  routes.post('/admin/users/:username', async (c) => {
    const form = await readForm(c);
    await app.users.update(
      c.req.param('username'),
      {
        ...(form.isAdmin !== undefined && { isAdmin: flag(form.isAdmin) }),
        ...(form.disabled !== undefined && { disabled: flag(form.disabled) }),
      },
      actorOf(c),
    );
    return renderUsers(c);
  });

  routes.get('/admin/audit', (c) => {
    const before = Number(c.req.query('before')) || undefined;
    const events = app.audit.list({ limit: AUDIT_PAGE_SIZE, ...(before && { before }) });
    const olderThan = events.length === AUDIT_PAGE_SIZE ? events.at(-1)?.id : undefined;
    return c.html(
      auditPage({
        ...pageProps(c, assets, 'admin', 'Audit log', before ? undefined : ['audit']),
        events,
        ...(olderThan && { olderThan }),
      }),
    );
  });

  return routes;
}
