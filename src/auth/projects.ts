import { z } from 'zod';
import type { Db } from '../db/connection.ts';
import type { Audit } from '../audit/audit.ts';
import { conflict, forbidden, notFound, resourceDoesNotExist } from '../lib/errors.ts';
import { parseSecurityPolicy, projectSecurityPolicy, type ProjectSecurityPolicy, type SecurityPolicyInput } from './project-policy.ts';
import { findProjectPolicy, upsertProjectPolicy } from './project-policy-queries.ts';
import { findUserByName, type UserRecord } from './user-queries.ts';
import {
  deleteMember,
  findProjectByName,
  insertProject,
  listMembers,
  listProjects,
  listProjectsOfUser,
  prepareProjectById,
  prepareRoleOf,
  upsertMember,
  type ProjectRecord,
  type Role,
} from './project-queries.ts';

export type { ProjectRecord, ProjectSecurityPolicy, Role };

export const ROLES = ['viewer', 'editor', 'admin'] as const satisfies readonly Role[];
export const DEFAULT_PROJECT = 'default';
/** The tag that names the project a new experiment or registered model goes into. */
export const PROJECT_TAG = 'trainyard.project';

export const projectNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a project name is 1-63 lowercase letters, digits or dashes, starting with a letter or digit');

export const newProjectSchema = z.strictObject({
  name: projectNameSchema,
  description: z.string().max(1000).default(''),
});

export function roleAtLeast(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

type Actor = { actor: string; ip?: string };

export interface Projects {
  ensureDefault(): ProjectRecord;
  create(input: z.input<typeof newProjectSchema>, by: Actor): ProjectRecord;
  get(name: string): ProjectRecord;
  /** Site admins see every project, as admin; others see the projects they belong to. */
  listFor(user: UserRecord): Array<{ project: ProjectRecord; role: Role }>;
  roleOf(user: UserRecord, project: ProjectRecord): Role | undefined;
  /** The project, if the user holds at least `needed` in it; 404 when they may not even see it. */
  authorize(user: UserRecord, name: string, needed: Role): { project: ProjectRecord; role: Role };
  /**
   * The same for a project known by id, as things that belong to a project store it. A thing inside a project
   * passes `missing`, so that a project the user may not see answers as that thing not existing.
   */
  authorizeId(user: UserRecord, id: number, needed: Role, missing?: () => Error): { project: ProjectRecord; role: Role };
  canSee(user: UserRecord, id: number): boolean;
  /** The ids of the projects the user sees; undefined for site admins, who see all. */
  visibleIds(user: UserRecord): number[] | undefined;
  /** Where a new experiment or model goes: the project its `trainyard.project` tag names, else the default one. */
  placeNew(user: UserRecord, named: string | undefined): ProjectRecord;
  members(project: ProjectRecord): Array<{ username: string; displayName: string; role: Role }>;
  setMember(project: ProjectRecord, username: string, role: Role, by: Actor): void;
  removeMember(project: ProjectRecord, username: string, by: Actor): void;
  /** What the project's containers may do beyond the safe defaults (the defaults until a site admin sets it). */
  securityPolicy(projectId: number): ProjectSecurityPolicy;
  /** Replaces the project's security policy; only site admins may (the caller checks). */
  setSecurityPolicy(project: ProjectRecord, input: SecurityPolicyInput, by: Actor): ProjectSecurityPolicy;
}

/** `dataDir` holds the database and the secrets: no security policy may open it to containers. */
export function createProjects(deps: { db: Db; audit: Audit; now: () => number; dataDir: string }): Projects {
  const { db, audit } = deps;
  const findProjectById = prepareProjectById(db);
  const findRole = prepareRoleOf(db);

  const get = (name: string) => {
    const project = findProjectByName(db, name);
    if (!project) throw notFound(`project "${name}" does not exist`);
    return project;
  };

  const roleOf = (user: UserRecord, project: ProjectRecord): Role | undefined =>
    user.isAdmin ? 'admin' : findRole(project.id, user.id);

  const authorizeIn = (user: UserRecord, project: ProjectRecord | undefined, needed: Role, missing: () => Error) => {
    const role = project && roleOf(user, project);
    if (!project || !role) throw missing();
    if (!roleAtLeast(role, needed)) throw forbidden(`this needs the ${needed} role in project "${project.name}"; you are ${role}`);
    return { project, role };
  };

  const memberUser = (username: string) => {
    const user = findUserByName(db, username);
    if (!user) throw notFound(`user "${username}" does not exist`);
    return user;
  };

  const ensureDefault = () =>
    findProjectByName(db, DEFAULT_PROJECT) ??
    insertProject(db, { name: DEFAULT_PROJECT, description: 'The project everyone starts in.', createdAt: deps.now() });

  return {
    ensureDefault,
    create(input, by) {
      const { name, description } = newProjectSchema.parse(input);
      if (findProjectByName(db, name)) throw conflict(`project "${name}" already exists`);
      const project = insertProject(db, { name, description, createdAt: deps.now() });
      audit.record({ ...by, action: 'project.create', target: name });
      return project;
    },
    get,
    listFor(user) {
      if (user.isAdmin) return listProjects(db).map((project) => ({ project, role: 'admin' as const }));
      return listProjectsOfUser(db, user.id);
    },
    roleOf,
    authorize(user, name, needed) {
      return authorizeIn(user, findProjectByName(db, name), needed, () => notFound(`project "${name}" does not exist`));
    },
    authorizeId(user, id, needed, missing = () => notFound(`project ${id} does not exist`)) {
      return authorizeIn(user, findProjectById(id), needed, missing);
    },
    canSee(user, id) {
      const project = findProjectById(id);
      return project !== undefined && roleOf(user, project) !== undefined;
    },
    visibleIds(user) {
      return user.isAdmin ? undefined : listProjectsOfUser(db, user.id).map(({ project }) => project.id);
    },
    placeNew(user, named = DEFAULT_PROJECT) {
      if (named === DEFAULT_PROJECT) ensureDefault();
      return authorizeIn(user, findProjectByName(db, named), 'editor', () => resourceDoesNotExist(`project "${named}" does not exist`)).project;
    },
    members(project) {
      return listMembers(db, project.id);
    },
    setMember(project, username, role, by) {
      const user = memberUser(username);
      upsertMember(db, project.id, user.id, role);
      audit.record({ ...by, action: 'member.set', target: `${project.name}/${username}`, detail: { role } });
    },
    removeMember(project, username, by) {
      const user = memberUser(username);
      if (!deleteMember(db, project.id, user.id)) {
        throw notFound(`user "${username}" is not a member of project "${project.name}"`);
      }
      audit.record({ ...by, action: 'member.remove', target: `${project.name}/${username}` });
    },
    securityPolicy(projectId) {
      const project = findProjectById(projectId);
      if (!project) throw notFound(`project ${projectId} does not exist`);
      return projectSecurityPolicy(project.name, findProjectPolicy(db, projectId));
    },
    setSecurityPolicy(project, input, by) {
      const policy = parseSecurityPolicy(input, deps.dataDir);
      const record = upsertProjectPolicy(db, { projectId: project.id, ...policy, updatedAt: deps.now(), updatedBy: by.actor });
      audit.record({ ...by, action: 'policy.set', target: project.name, detail: policy });
      return projectSecurityPolicy(project.name, record);
    },
  };
}
