import type { Audit } from '../audit/audit.ts';
import { PROJECT_TAG, type ProjectRecord, type Projects, type Role } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Db } from '../db/connection.ts';
import { resourceDoesNotExist, type HttpError } from '../lib/errors.ts';
import type { Caller } from '../tracking/access.ts';
import { findModelVersion } from './model-version-queries.ts';
import { findRegisteredModel, type RegisteredModelRecord } from './registered-model-queries.ts';
import { parseVersion, validateModelName, type Tag } from './registry-validation.ts';

export interface RegistryDeps {
  db: Db;
  now: () => number;
  projects: Projects;
  audit: Audit;
}

/** Who asks, as the tracking domain names them: the user whose roles decide, and where from. */
export type { Caller };

export const modelNotFound = (name: string) => resourceDoesNotExist(`Registered Model with name=${name} not found`);
export const versionNotFound = (name: string, version: number | string) =>
  resourceDoesNotExist(`Model Version (name=${name}, version=${version}) not found`);

export type RegistryAccess = ReturnType<typeof createRegistryAccess>;

/** Finding registered models and versions by name, through the caller's role in their project. */
export function createRegistryAccess({ db, projects }: RegistryDeps) {
  /** The project when the user holds `role` there; `missing` when they may not even see it. */
  const authorize = (user: UserRecord, projectId: number, role: Role, missing: () => HttpError): ProjectRecord =>
    projects.authorizeId(user, projectId, role, missing).project;

  const model = (caller: Caller, name: string | undefined, role: Role): { model: RegisteredModelRecord; project: ProjectRecord } => {
    const valid = validateModelName(name);
    const found = findRegisteredModel(db, valid);
    if (!found) throw modelNotFound(valid);
    return { model: found, project: authorize(caller.user, found.projectId, role, () => modelNotFound(valid)) };
  };

  const version = (caller: Caller, name: string | undefined, versionText: string | undefined, role: Role) => {
    const found = model(caller, name, role);
    const number = parseVersion(versionText);
    const record = Number.isSafeInteger(number) ? findModelVersion(db, found.model.id, number) : undefined;
    if (!record) throw versionNotFound(found.model.name, versionText!.trim());
    return { ...found, version: record };
  };

  /** A new model goes into the project its `trainyard.project` tag names, else the default one. */
  const projectForNewModel = (user: UserRecord, tags: Tag[]): ProjectRecord =>
    projects.placeNew(user, tags.find(({ key }) => key === PROJECT_TAG)?.value);

  return {
    canSee: (user: UserRecord, projectId: number) => projects.canSee(user, projectId),
    model,
    version,
    projectForNewModel,
    visibleProjectIds: (user: UserRecord) => projects.visibleIds(user),
  };
}
