import { DEFAULT_PROJECT, type ProjectRecord, type Projects, type Role } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import { HttpError, resourceDoesNotExist } from '../lib/errors.ts';

/** Who asks: the user whose roles decide, and the address the audit log records. */
export interface Caller {
  user: UserRecord;
  ip?: string;
}

/** The experiment tag that names the project a new experiment goes into. */
export const PROJECT_TAG = 'trainyard.project';

export type TrackingAccess = ReturnType<typeof createTrackingAccess>;

/**
 * Experiments belong to projects; runs to experiments. A thing in a project the caller may not see answers as
 * if it did not exist (MLflow's RESOURCE_DOES_NOT_EXIST); too low a role is 403 PERMISSION_DENIED.
 */
export function createTrackingAccess(projects: Projects) {
  const require = (user: UserRecord, projectId: number, role: Role, missing: () => HttpError): void => {
    if (user.isAdmin) return; // site admins hold every role everywhere; this runs on every logged metric
    try {
      projects.authorizeId(user, projectId, role);
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) throw missing();
      throw error;
    }
  };

  /** The projects whose experiments the user sees; undefined for site admins, who see all. */
  const visibleProjectIds = (user: UserRecord): number[] | undefined =>
    user.isAdmin ? undefined : projects.listFor(user).map(({ project }) => project.id);

  /** Where a new experiment goes: the project its `trainyard.project` tag names, else the default one. */
  const projectForNewExperiment = (user: UserRecord, named: string | undefined): ProjectRecord => {
    if (named === undefined || named === DEFAULT_PROJECT) projects.ensureDefault();
    try {
      return projects.authorize(user, named ?? DEFAULT_PROJECT, 'editor').project;
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) throw resourceDoesNotExist(error.message);
      throw error;
    }
  };

  return { require, visibleProjectIds, projectForNewExperiment, defaultProjectId: () => projects.ensureDefault().id };
}
