import type { Projects, Role } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Db } from '../db/connection.ts';
import { HttpError, invalidParameterValue, resourceDoesNotExist } from '../lib/errors.ts';
import { createTrackingAccess } from '../tracking/access.ts';
import { findExperimentById, type ExperimentRecord } from '../tracking/experiment-queries.ts';
import { findRun, type RunRecord } from '../tracking/run-queries.ts';

const EXPERIMENT_ID = /^\d{1,15}$/;
const RUN_ID = /^[0-9a-f]{32}$/;

export function parseExperimentId(id: string): number {
  if (!EXPERIMENT_ID.test(id)) throw invalidParameterValue(`Invalid experiment id ${JSON.stringify(id.slice(0, 100))}: it must be a number`);
  return Number(id);
}

export type ExperimentAccess = ReturnType<typeof createExperimentAccess>;

/**
 * The gate in front of artifacts and logged models: they belong to an experiment, whose project decides
 * (viewers read, editors write). Unknown and invisible experiments answer alike, 404 in MLflow's code.
 */
export function createExperimentAccess(deps: { db: Db; projects: Projects }) {
  const access = createTrackingAccess(deps.projects);

  /** `missing` names what was asked for, when that was something inside the experiment. */
  const experiment = (
    user: UserRecord,
    experimentId: string,
    role: Role,
    missing = () => resourceDoesNotExist(`No Experiment with id=${experimentId} exists`),
  ): ExperimentRecord => {
    const found = findExperimentById(deps.db, parseExperimentId(experimentId));
    if (!found) throw missing();
    access.require(user, found.projectId, role, missing);
    return found;
  };

  const canView = (user: UserRecord, experimentId: string): boolean => {
    try {
      experiment(user, experimentId, 'viewer');
      return true;
    } catch (error) {
      if (error instanceof HttpError && error.status < 500) return false;
      throw error;
    }
  };

  const run = (user: UserRecord, runId: string, role: Role): RunRecord => {
    const missing = () => resourceDoesNotExist(`Run with id=${runId} not found`);
    const found = RUN_ID.test(runId) ? findRun(deps.db, runId) : undefined;
    const parent = found && findExperimentById(deps.db, found.experimentId);
    if (!found || !parent) throw missing();
    access.require(user, parent.projectId, role, missing);
    return found;
  };

  return { experiment, canView, run };
}

const ARTIFACT_SCHEME = 'mlflow-artifacts:';

/** The store path of an `mlflow-artifacts:/1/<run>/artifacts` URI, the form every run and logged model here has. */
export function storePathOf(artifactUri: string): string {
  if (!artifactUri.startsWith(ARTIFACT_SCHEME)) {
    throw invalidParameterValue(`The artifacts at ${artifactUri} are not kept by this server`);
  }
  return artifactUri.slice(ARTIFACT_SCHEME.length).replace(/^\/+/, '').replace(/\/+$/, '');
}
