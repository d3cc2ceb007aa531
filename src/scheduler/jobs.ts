import type { Audit } from '../audit/audit.ts';
import type { Projects, ProjectSecurityPolicy } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Db } from '../db/connection.ts';
import type { Bus } from '../lib/bus.ts';
import { invalidState, notFound } from '../lib/errors.ts';
import { needsBeyondPolicy, policyRefusal } from '../runtime/security-policy.ts';
import { jobSecurityAsks } from './job-container.ts';
import { REPLICA_PRIORITY, type JobSubmission, type ReplicaSubmission } from './job-request.ts';
import {
  findJob,
  insertJob,
  insertJobEvent,
  listDeploymentJobs,
  listJobEvents,
  listJobs,
  listJobsInStates,
  moveJob,
  updateJob,
  type JobChanges,
  type JobEventRecord,
  type JobListFilter,
  type JobRecord,
  type NewJobRecord,
} from './job-queries.ts';
import { canMove, isFinished, type JobState } from './job-states.ts';

export type { JobEventRecord, JobRecord, JobState };

declare module '../lib/bus.ts' {
  interface BusEvents {
    /** A job changed state (or its waiting reason changed). */
    'job.changed': { job: JobRecord; from: JobState | null };
    /** Someone asked to cancel a job; the scheduler stops its container. */
    'job.cancel-requested': { job: JobRecord };
  }
}

export interface Jobs {
  /**
   * Queues a validated submission in a project where `user` is an editor; a 403 naming what the project's security
   * policy does not allow (privileged mode, the host network, a host folder, a capability).
   */
  submit(user: UserRecord, submission: JobSubmission): JobRecord;
  /** A job `user` may see (404 otherwise). */
  get(user: UserRecord, id: number): JobRecord;
  list(user: UserRecord, filter: Omit<JobListFilter, 'projectIds'> & { project?: string }): JobRecord[];
  events(user: UserRecord, id: number): JobEventRecord[];
  /**
   * Cancels a queued job at once; a starting or running one is marked and left to the scheduler, which stops
   * its container. A finished job cannot be cancelled (409).
   */
  cancel(user: UserRecord, id: number): JobRecord;
  /** The scheduler's side: a state change, recorded with its time and reason; undefined if the job had moved on. */
  move(id: number, from: JobState, to: JobState, reason: string, changes?: JobChanges): JobRecord | undefined;
  /** The scheduler's side: fields that are not a state change (the waiting reason, the container id). */
  update(id: number, changes: JobChanges): JobRecord | undefined;
  inStates(states: JobState[]): JobRecord[];
  byId(id: number): JobRecord | undefined;
  /** The scheduler's side: the policy of the job's project as it is now, which each start is checked against again. */
  securityPolicyOf(job: JobRecord): ProjectSecurityPolicy;
  /** The deployment manager's side: queues a replica (the deployment's creator was checked when it was created). */
  submitReplica(replica: ReplicaSubmission): JobRecord;
  /** The deployment manager's side: cancels a replica as `cancel` does, without a user; a finished one is left as it is. */
  cancelReplica(id: number, reason: string): JobRecord | undefined;
  /** A deployment's replica jobs in `states`, oldest first. */
  replicasOf(deploymentId: number, states: JobState[]): JobRecord[];
}

export function createJobs(deps: { db: Db; now: () => number; bus: Bus; projects: Projects; audit: Audit }): Jobs {
  const { db, now, bus, projects, audit } = deps;
  const jobNotFound = (id: number) => notFound(`job ${id} does not exist`);

  const get = (user: UserRecord, id: number, role: 'viewer' | 'editor' = 'viewer') => {
    const job = findJob(db, id);
    if (!job) throw jobNotFound(id);
    projects.authorizeId(user, job.projectId, role, () => jobNotFound(id));
    return job;
  };

  const move: Jobs['move'] = (id, from, to, reason, changes = {}) => {
    if (!canMove(from, to)) throw new Error(`a job cannot move from ${from} to ${to}`);
    const at = now();
    const moved = db.transaction(() => {
      const job = moveJob(db, id, from, to, { ...changes, reason });
      if (job) insertJobEvent(db, { jobId: id, at, fromState: from, toState: to, reason });
      return job;
    });
    if (moved) bus.publish('job.changed', { job: moved, from });
    return moved;
  };

  /** A queued job is cancelled at once; a starting or running one is marked and left to the scheduler. */
  const requestCancel = (job: JobRecord, reason: string): JobRecord | undefined => {
    if (job.state === 'queued') return move(job.id, 'queued', 'cancelled', reason, { finishedAt: now() }) ?? findJob(db, job.id);
    const marked = updateJob(db, job.id, { cancelRequestedAt: job.cancelRequestedAt ?? now() }) ?? job;
    bus.publish('job.cancel-requested', { job: marked });
    return marked;
  };

  /** Inserts a queued job with its first event and tells the scheduler. */
  const queue = (job: Omit<NewJobRecord, 'submittedAt' | 'reason'>, event: string): JobRecord => {
    const at = now();
    const created = db.transaction(() => {
      const inserted = insertJob(db, { ...job, submittedAt: at, reason: 'waiting to be placed' });
      insertJobEvent(db, { jobId: inserted.id, at, fromState: null, toState: 'queued', reason: event });
      return inserted;
    });
    bus.publish('job.changed', { job: created, from: null });
    return created;
  };

  return {
    submit(user, submission) {
      const { project } = projects.authorize(user, submission.project, 'editor');
      const needs = needsBeyondPolicy(jobSecurityAsks(submission), projects.securityPolicy(project.id));
      if (needs.length > 0) throw policyRefusal(project.name, needs);
      const job = queue(
        {
          projectId: project.id,
          userId: user.id,
          name: submission.name ?? submission.command.join(' ').slice(0, 200),
          image: submission.image,
          command: submission.command,
          env: submission.env,
          gpus: submission.gpus,
          gpuMemory: submission.gpuMemory ?? null,
          cpus: submission.cpus ?? null,
          memory: submission.memory ?? null,
          priority: submission.priority,
          preemptible: submission.preemptible,
          timeLimitMs: submission.timeLimit ?? null,
          maxRetries: submission.retries,
          snapshotId: submission.snapshotId ?? null,
          privileged: submission.privileged,
          hostNetwork: submission.hostNetwork,
          mounts: submission.mounts,
          capabilities: submission.capabilities,
        },
        'submitted',
      );
      audit.record({ actor: user.username, action: 'job.submit', target: String(job.id), detail: { project: project.name, image: job.image, ...jobSecurityAsks(job) } });
      return job;
    },

    get: (user, id) => get(user, id),

    list(user, { project, ...filter }) {
      const visible = projects.visibleIds(user);
      const projectIds = project === undefined ? visible : [projects.authorize(user, project, 'viewer').project.id];
      return listJobs(db, { ...filter, ...(projectIds && { projectIds }) });
    },

    events: (user, id) => listJobEvents(db, get(user, id).id),

    cancel(user, id) {
      const job = get(user, id, 'editor');
      if (isFinished(job.state)) throw invalidState(`job ${id} has already finished (${job.state.replace('_', ' ')})`);
      audit.record({ actor: user.username, action: 'job.cancel', target: String(id) });
      return requestCancel(job, `cancelled by ${user.username}`) ?? get(user, id);
    },

    move,
    update: (id, changes) => {
      const job = updateJob(db, id, changes);
      if (job) bus.publish('job.changed', { job, from: job.state });
      return job;
    },
    inStates: (states) => listJobsInStates(db, states),
    byId: (id) => findJob(db, id),
    securityPolicyOf: (job) => projects.securityPolicy(job.projectId),

    submitReplica: ({ deploymentId, modelPath, servePort, ...replica }) =>
      queue({ ...replica, deploymentId, modelPath, servePort, priority: REPLICA_PRIORITY, preemptible: false }, `replica of deployment ${deploymentId}`),

    cancelReplica(id, reason) {
      const job = findJob(db, id);
      if (!job || job.deploymentId === null || isFinished(job.state)) return job;
      return requestCancel(job, reason);
    },

    replicasOf: (deploymentId, states) => listDeploymentJobs(db, deploymentId, states),
  };
}
