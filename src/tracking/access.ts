import type { Projects, Role } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { HttpError } from '../lib/errors.ts';

/** Who asks: the user whose roles decide, and the address the audit log records. */
export interface Caller {
  user: UserRecord;
  ip?: string;
}

export type TrackingAccess = ReturnType<typeof createTrackingAccess>;

/**
 * Experiments belong to projects; runs to experiments. A thing in a project the caller may not see answers as
 * if it did not exist (MLflow's RESOURCE_DOES_NOT_EXIST); too low a role is 403 PERMISSION_DENIED.
 */
export function createTrackingAccess(projects: Projects) {
  const require = (user: UserRecord, projectId: number, role: Role, missing: () => HttpError): void => {
    if (user.isAdmin) return; // site admins hold every role everywhere; this runs on every logged metric
    projects.authorizeId(user, projectId, role, missing);
  };

  return {
    require,
    visibleProjectIds: (user: UserRecord) => projects.visibleIds(user),
    projectForNewExperiment: (user: UserRecord, named: string | undefined) => projects.placeNew(user, named),
    defaultProjectId: () => projects.ensureDefault().id,
  };
}
