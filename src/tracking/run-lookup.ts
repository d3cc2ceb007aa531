import type { Role } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Db } from '../db/connection.ts';
import { invalidParameterValue, resourceDoesNotExist } from '../lib/errors.ts';
import type { TrackingAccess } from './access.ts';
import { createRunFinder, type RunWithProject } from './run-queries.ts';

export type FoundRun = RunWithProject;
export type RunLookup = ReturnType<typeof createRunLookup>;

const runNotFound = (runId: string) => resourceDoesNotExist(`Run with id=${runId} not found`);

/** Finds runs through the caller's role in the run's project; writes need the run to be active, as in MLflow. */
export function createRunLookup(db: Db, access: TrackingAccess) {
  const findRun = createRunFinder(db);
  const find = (user: UserRecord, runId: string, role: Role): FoundRun => {
    const run = findRun(runId);
    if (!run) throw runNotFound(runId);
    access.require(user, run.projectId, role, () => runNotFound(runId));
    return run;
  };

  const writable = (user: UserRecord, runId: string): FoundRun => {
    const run = find(user, runId, 'editor');
    if (run.lifecycleStage !== 'active') {
      throw invalidParameterValue(`The run ${run.runUuid} must be in the 'active' state. Current state is ${run.lifecycleStage}.`);
    }
    return run;
  };

  return { find, writable };
}
