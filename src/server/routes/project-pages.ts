import { Hono } from 'hono';
import type { App } from '../../app.ts';
import { ROLES, type Role } from '../../auth/projects.ts';
import { badRequest } from '../../lib/errors.ts';
import { memberList, projectPage } from '../../../web/views/project-page.ts';
import { projectList, projectsPage } from '../../../web/views/projects-page.ts';
import { actorOf, principalOf, requireSiteAdmin, type AppContext, type AppEnv } from '../context.ts';
import type { Assets } from '../assets.ts';
import { fragmentOrPage, pageProps } from '../page-props.ts';
import { readForm } from '../request-body.ts';

function parseRole(value: string | undefined): Role {
  if (!ROLES.includes(value as Role)) throw badRequest(`role must be one of ${ROLES.join(', ')}`);
  return value as Role;
}

export function projectPages(app: App, assets: Assets) {
  const routes = new Hono<AppEnv>();

  const renderList = (c: AppContext) => {
    const projects = app.projects.listFor(principalOf(c).user);
    return fragmentOrPage(
      c,
      () => projectList({ projects }),
      () => projectsPage({ ...pageProps(c, assets, 'projects', 'Projects'), projects }),
    );
  };

  const renderProject = (c: AppContext) => {
    const { user, csrfToken = '' } = principalOf(c);
    const { project, role } = app.projects.authorize(user, c.req.param('name') ?? '', 'viewer');
    const members = app.projects.members(project);
    const memberNames = new Set(members.map((member) => member.username));
    return fragmentOrPage(
      c,
      () => memberList({ project, members, canManage: role === 'admin', csrfToken }),
      () =>
        projectPage({
          ...pageProps(c, assets, 'projects', project.name),
          project,
          role,
          members,
          candidates: app.users.list().filter((candidate) => !memberNames.has(candidate.username)).map((candidate) => candidate.username),
        }),
    );
  };

  const manage = (c: AppContext) => app.projects.authorize(principalOf(c).user, c.req.param('name') ?? '', 'admin').project;

  routes.get('/projects', (c) => renderList(c));

  routes.post('/projects', async (c) => {
    requireSiteAdmin(c);
    const form = await readForm(c);
    app.projects.create({ name: form.name ?? '', description: form.description ?? '' }, actorOf(c));
    return renderList(c);
  });

  routes.get('/projects/:name', (c) => renderProject(c));

  routes.post('/projects/:name/members', async (c) => {
    const project = manage(c);
    const form = await readForm(c);
    app.projects.setMember(project, form.username ?? '', parseRole(form.role), actorOf(c));
    return renderProject(c);
  });

  routes.post('/projects/:name/members/:username', async (c) => {
    const project = manage(c);
    const form = await readForm(c);
    app.projects.setMember(project, c.req.param('username'), parseRole(form.role), actorOf(c));
    return renderProject(c);
  });

  routes.post('/projects/:name/members/:username/remove', (c) => {
    app.projects.removeMember(manage(c), c.req.param('username'), actorOf(c));
    return renderProject(c);
  });

  return routes;
}
