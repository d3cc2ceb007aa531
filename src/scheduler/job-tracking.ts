import { PROJECT_TAG, type ProjectRecord, type Projects } from '../auth/projects.ts';
import type { Tokens } from '../auth/tokens.ts';
import type { UserRecord, Users } from '../auth/users.ts';
import type { Config } from '../config.ts';
import { conflict, invalidParameterValue, notFound, unlessMissing } from '../lib/errors.ts';
import type { Log } from '../lib/log.ts';
import type { Caller, Tracking } from '../tracking/tracking.ts';
import type { JobRecord, JobState } from './jobs.ts';

/** The host name a job's container reaches the appliance at: the runtime maps it to the host (`host-gateway`). */
export const CONTAINER_HOST = 'host.docker.internal';
/** Each project's jobs log to one experiment, named after the project. */
export const JOB_EXPERIMENT_PREFIX = 'jobs/';
/** A job without a time limit still gets a token that ends. */
export const DEFAULT_TOKEN_LIFETIME_MS = 7 * 24 * 3_600_000;
/** Past the time limit the container is stopped with a grace period in which it may still flush its last metrics. */
export const TOKEN_GRACE_MS = 15 * 60_000;

const SCHEDULER = { actor: 'scheduler' };

/** The MLflow run status a job's outcome gives its run; a job put back in the queue (preempted) leaves it KILLED until it restarts. */
const RUN_STATUS: Record<JobState, 'FINISHED' | 'FAILED' | 'KILLED'> = {
  succeeded: 'FINISHED',
  failed: 'FAILED',
  timed_out: 'FAILED',
  lost: 'FAILED',
  cancelled: 'KILLED',
  queued: 'KILLED',
  starting: 'KILLED',
  running: 'KILLED',
};

export interface PreparedTracking {
  /** MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN, MLFLOW_RUN_ID and MLFLOW_EXPERIMENT_ID for the container. */
  env: Record<string, string>;
  mlflowRunId: string;
}

export interface JobTracking {
  /**
   * Before a job's container starts: its MLflow run (created as the job's user in the experiment of its project,
   * or the job's earlier run resumed after a requeue) and a token that may write to that run only, expiring
   * with the job's time limit. Throws when the user may no longer write to the project.
   */
  prepare(job: JobRecord): PreparedTracking;
  /** After the job ended: the run's status and end time from the job's, and its tokens revoked. Never throws. */
  finish(job: JobRecord): void;
}

export function createJobTracking(deps: {
  tracking: Tracking;
  tokens: Tokens;
  users: Users;
  projects: Projects;
  config: Config;
  now: () => number;
  log: Log;
}): JobTracking {
  const { tracking, tokens, users, projects, config, now, log } = deps;
  const { experiments, runs } = tracking;

  const ownerOf = (job: JobRecord): UserRecord => {
    const user = users.byId(job.userId);
    if (!user || user.disabledAt !== null) throw notFound(`the user who submitted job ${job.id} no longer exists or is disabled`);
    return user;
  };

  /** The experiment the project's jobs log to, created on the project's first job. */
  const experimentOf = (caller: Caller, project: ProjectRecord): string => {
    const name = `${JOB_EXPERIMENT_PREFIX}${project.name}`;
    const found = unlessMissing(() => experiments.getByName(caller, { experiment_name: name }).experiment);
    if (!found) return experiments.create(caller, { name, tags: [{ key: PROJECT_TAG, value: project.name }] }).experiment_id;
    if (experiments.authorize(caller.user, Number(found.experiment_id), 'editor').projectId !== project.id) {
      throw conflict(`experiment "${name}" belongs to another project: rename it so that project ${project.name}'s jobs can log there`);
    }
    if (found.lifecycle_stage !== 'active') throw invalidParameterValue(`experiment "${name}" is deleted: restore it so that jobs can log to it`);
    return found.experiment_id;
  };

  /** The job's run from an earlier start, when it is still there to log to. */
  const earlierRun = (caller: Caller, job: JobRecord): string | undefined => {
    const runUuid = job.mlflowRunId;
    const run = runUuid ? unlessMissing(() => runs.find(caller.user, runUuid, 'editor')) : undefined;
    return run?.lifecycleStage === 'active' ? run.runUuid : undefined;
  };

  const startRun = (caller: Caller, job: JobRecord, experimentId: string): string => {
    const resumed = earlierRun(caller, job);
    if (resumed) {
      tokens.revokeForRun(resumed, SCHEDULER);
      runs.update(caller, { run_id: resumed, status: 'RUNNING' });
      return resumed;
    }
    const tags = {
      'trainyard.job_id': String(job.id),
      'mlflow.source.name': job.image,
      'mlflow.source.type': 'JOB',
      'mlflow.user': caller.user.username,
    };
    const message = { experiment_id: experimentId, run_name: job.name, start_time: now(), tags: Object.entries(tags).map(([key, value]) => ({ key, value })) };
    return runs.create(caller, message).run.info.run_id;
  };

  return {
    prepare(job) {
      if (config.port === 0) throw new Error('jobs log to MLflow through the appliance port, which must be fixed (not 0)');
      const user = ownerOf(job);
      const caller = { user };
      const { project } = projects.authorizeId(user, job.projectId, 'editor');
      const experimentId = experimentOf(caller, project);
      const runUuid = startRun(caller, job, experimentId);
      const expiresAt = now() + (job.timeLimitMs ?? DEFAULT_TOKEN_LIFETIME_MS) + TOKEN_GRACE_MS;
      const { secret } = tokens.createForRun(user, { runUuid, name: `job ${job.id}`, expiresAt }, SCHEDULER);
      return {
        mlflowRunId: runUuid,
        env: {
          MLFLOW_TRACKING_URI: `http://${CONTAINER_HOST}:${config.port}`,
          MLFLOW_TRACKING_TOKEN: secret,
          MLFLOW_RUN_ID: runUuid,
          MLFLOW_EXPERIMENT_ID: experimentId,
        },
      };
    },

    finish(job) {
      const runUuid = job.mlflowRunId;
      if (!runUuid) return;
      tokens.revokeForRun(runUuid, SCHEDULER);
      try {
        runs.update({ user: ownerOf(job) }, { run_id: runUuid, status: RUN_STATUS[job.state], end_time: job.finishedAt ?? now() });
      } catch (error) {
        log.warn({ err: error, job: job.id, run: runUuid }, 'could not mark the MLflow run of a finished job');
      }
    },
  };
}
