import { Hono } from 'hono';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { securityPolicyInputSchema } from '../../auth/project-policy.ts';
import { newProjectSchema, ROLES } from '../../auth/projects.ts';
import { newTokenSchema } from '../../auth/tokens.ts';
import { newUserSchema, publicUser, userChangesSchema } from '../../auth/users.ts';
import { badRequest } from '../../lib/errors.ts';
import { actorOf, principalOf, requireSiteAdmin, type AppEnv } from '../context.ts';
import { parseWith, readJson } from '../request-body.ts';

const memberRoleSchema = z.strictObject({ role: z.enum(ROLES) });
const auditQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().positive().optional(),
});

function idParam(value: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) throw badRequest(`"${value}" is not a token id`);
  return id;
}

/** The appliance's own JSON API for identities: who am I, tokens, users, projects and the audit log. */
export function authApi(app: App) {
  const api = new Hono<AppEnv>();

  api.get('/whoami', (c) => {
    const { user, via, scope } = principalOf(c);
    const projects = app.projects.listFor(user).map(({ project, role }) => ({ name: project.name, role }));
    return c.json({ user: publicUser(user), via, scope, projects });
  });

  api.get('/tokens', (c) => c.json({ tokens: app.tokens.list(principalOf(c).user) }));

  api.post('/tokens', async (c) => {
    const input = await readJson(c, newTokenSchema);
    const { secret, token } = app.tokens.create(principalOf(c).user, input, actorOf(c));
    return c.json({ token: secret, ...token }, 201);
  });

  api.delete('/tokens/:id', (c) => {
    const token = app.tokens.revoke(principalOf(c).user, idParam(c.req.param('id')), actorOf(c));
    return c.json({ token });
  });

  api.get('/users', (c) => {
    requireSiteAdmin(c);
    return c.json({ users: app.users.list().map(publicUser) });
  });

  api.post('/users', async (c) => {
    requireSiteAdmin(c);
    const user = await app.users.create(await readJson(c, newUserSchema), actorOf(c));
    return c.json({ user: publicUser(user) }, 201);
  });

  api.patch('/users/:username', async (c) => {
    requireSiteAdmin(c);
    const user = await app.users.update(c.req.param('username'), await readJson(c, userChangesSchema), actorOf(c));
    return c.json({ user: publicUser(user) });
  });

  api.get('/projects', (c) =>
    c.json({ projects: app.projects.listFor(principalOf(c).user).map(({ project, role }) => ({ ...project, role })) }),
  );

  api.post('/projects', async (c) => {
    requireSiteAdmin(c);
    const project = app.projects.create(await readJson(c, newProjectSchema), actorOf(c));
    return c.json({ project }, 201);
  });

  api.get('/projects/:name', (c) => {
    const { project, role } = app.projects.authorize(principalOf(c).user, c.req.param('name'), 'viewer');
    return c.json({ project: { ...project, role }, members: app.projects.members(project) });
  });

  api.put('/projects/:name/members/:username', async (c) => {
    const { project } = app.projects.authorize(principalOf(c).user, c.req.param('name'), 'admin');
    const { role } = await readJson(c, memberRoleSchema);
    app.projects.setMember(project, c.req.param('username'), role, actorOf(c));
    return c.json({ members: app.projects.members(project) });
  });

  api.delete('/projects/:name/members/:username', (c) => {
    const { project } = app.projects.authorize(principalOf(c).user, c.req.param('name'), 'admin');
    app.projects.removeMember(project, c.req.param('username'), actorOf(c));
    return c.json({ members: app.projects.members(project) });
  });

  api.get('/projects/:name/security-policy', (c) => {
    const { project } = app.projects.authorize(principalOf(c).user, c.req.param('name'), 'viewer');
    return c.json({ policy: app.projects.securityPolicy(project.id) });
  });

  api.put('/projects/:name/security-policy', async (c) => {
    requireSiteAdmin(c);
    const project = app.projects.get(c.req.param('name'));
    const policy = app.projects.setSecurityPolicy(project, await readJson(c, securityPolicyInputSchema), actorOf(c));
    return c.json({ policy });
  });

  api.get('/audit', (c) => {
    requireSiteAdmin(c);
    const { limit, before } = parseWith(auditQuerySchema, c.req.query());
    return c.json({ events: app.audit.list({ limit, ...(before && { before }) }) });
  });

  return api;
}
