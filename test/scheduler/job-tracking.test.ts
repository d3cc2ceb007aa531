import { beforeAll, describe, expect, it } from 'vitest';
import type { Log } from '../../src/lib/log.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import { createJobTracking, DEFAULT_TOKEN_LIFETIME_MS, TOKEN_GRACE_MS, type JobTracking } from '../../src/scheduler/job-tracking.ts';
import type { JobRecord } from '../../src/scheduler/jobs.ts';
import { ADMIN, createTestApp, MEMBER, type TestApp } from '../helpers/test-app.ts';
import { mlflowAs } from '../server/mlflow/tracking-client.ts';

let t: TestApp;
let tracking: JobTracking;
const warnings: unknown[] = [];
const by = { actor: 'test' };
const HOUR = 3_600_000;

beforeAll(async () => {
  t = await createTestApp({ port: 8765 });
  for (const name of ['vision', 'speech']) {
    t.app.projects.create({ name }, by);
    t.app.projects.setMember(t.app.projects.get(name), MEMBER.username, 'editor', by);
  }
  const log = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Log;
  tracking = createJobTracking({ ...t.app, log });
});

const member = () => t.app.users.get(MEMBER.username);

function submit(fields: Record<string, unknown> = {}): JobRecord {
  return t.app.jobs.submit(member(), jobSubmissionSchema.parse({ project: 'vision', name: 'train resnet', image: 'trainyard/python:bookworm', command: ['python3', 'train.py'], ...fields }));
}

/** A request with a job's token, as the code inside the container makes it. */
async function asJob(env: Record<string, string>, path: string, body: unknown) {
  const response = await t.request(`/api/2.0/mlflow${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env.MLFLOW_TRACKING_TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return response.status;
}

const runOf = async (runId: string) => (await mlflowAs(t, ADMIN).ok('GET', '/runs/get', { run_id: runId })).run;
const tagsOf = (run: { data: { tags: Array<{ key: string; value: string }> } }) => Object.fromEntries(run.data.tags.map(({ key, value }) => [key, value]));

describe('prepare', () => {
  it("gives the job a run in its project's experiment, as its user, and the environment to log to it", async () => {
    const job = submit({ timeLimit: '2h' });
    const { env, mlflowRunId } = tracking.prepare(job);

    expect(Object.keys(env).sort()).toEqual(['MLFLOW_EXPERIMENT_ID', 'MLFLOW_RUN_ID', 'MLFLOW_TRACKING_TOKEN', 'MLFLOW_TRACKING_URI']);
    expect(env).toMatchObject({ MLFLOW_TRACKING_URI: 'http://host.docker.internal:8765', MLFLOW_RUN_ID: mlflowRunId });
    expect(env.MLFLOW_TRACKING_TOKEN).toMatch(/^ty_/);

    const experiment = (await mlflowAs(t, ADMIN).ok('GET', '/experiments/get', { experiment_id: env.MLFLOW_EXPERIMENT_ID! })).experiment;
    expect(experiment.name).toBe('jobs/vision');
    expect(t.app.tracking.experiments.authorize(member(), Number(experiment.experiment_id), 'viewer').projectId).toBe(t.app.projects.get('vision').id);

    const run = await runOf(mlflowRunId);
    expect(run.info).toMatchObject({ run_name: 'train resnet', user_id: MEMBER.username, status: 'RUNNING', experiment_id: env.MLFLOW_EXPERIMENT_ID, start_time: t.clock.now });
    expect(tagsOf(run)).toMatchObject({
      'trainyard.job_id': String(job.id),
      'mlflow.source.name': 'trainyard/python:bookworm',
      'mlflow.source.type': 'JOB',
      'mlflow.user': MEMBER.username,
    });

    const [token] = t.app.tokens.list(member());
    expect(token).toMatchObject({ name: `job ${job.id}`, runUuid: mlflowRunId, scope: 'write', expiresAt: t.clock.now + 2 * HOUR + TOKEN_GRACE_MS });
    expect(await asJob(env, '/runs/log-metric', { run_id: mlflowRunId, key: 'loss', value: 1.5, timestamp: 1, step: 0 })).toBe(200);
    const other = submit();
    expect(await asJob(env, '/runs/log-metric', { run_id: tracking.prepare(other).mlflowRunId, key: 'loss', value: 1, timestamp: 1 })).toBe(403);
  });

  it("puts a project's jobs in one experiment and another project's in their own; a job without a time limit gets a week", () => {
    const first = tracking.prepare(submit()).env;
    const second = tracking.prepare(submit()).env;
    const speech = tracking.prepare(submit({ project: 'speech' })).env;
    expect(second.MLFLOW_EXPERIMENT_ID).toBe(first.MLFLOW_EXPERIMENT_ID);
    expect(speech.MLFLOW_EXPERIMENT_ID).not.toBe(first.MLFLOW_EXPERIMENT_ID);
    expect(second.MLFLOW_RUN_ID).not.toBe(first.MLFLOW_RUN_ID);
    const token = t.app.tokens.list(member()).find((candidate) => candidate.runUuid === speech.MLFLOW_RUN_ID);
    expect(token?.expiresAt).toBe(t.clock.now + DEFAULT_TOKEN_LIFETIME_MS + TOKEN_GRACE_MS);
  });

  it('resumes the run of a job that starts again (a retry, a requeue after preemption) with a new token', async () => {
    const job = submit();
    const first = tracking.prepare(job);
    tracking.finish({ ...job, state: 'queued', mlflowRunId: first.mlflowRunId });
    expect((await runOf(first.mlflowRunId)).info.status).toBe('KILLED');

    const again = tracking.prepare({ ...job, mlflowRunId: first.mlflowRunId });
    expect(again.mlflowRunId).toBe(first.mlflowRunId);
    expect((await runOf(first.mlflowRunId)).info.status).toBe('RUNNING');
    expect(await asJob(first.env, '/runs/set-tag', { run_id: first.mlflowRunId, key: 'k', value: 'v' })).toBe(401);
    expect(await asJob(again.env, '/runs/set-tag', { run_id: first.mlflowRunId, key: 'k', value: 'v' })).toBe(200);

    await mlflowAs(t, MEMBER).ok('POST', '/runs/delete', { run_id: first.mlflowRunId });
    expect(tracking.prepare({ ...job, mlflowRunId: first.mlflowRunId }).mlflowRunId).not.toBe(first.mlflowRunId);
  });

  it('refuses, creating nothing, when the user may no longer write to the project or the experiment is not usable', async () => {
    const job = submit({ project: 'speech' });
    const speech = t.app.projects.get('speech');
    const runsBefore = (await mlflowAs(t, ADMIN).ok('POST', '/runs/search', { experiment_ids: [tracking.prepare(submit({ project: 'speech' })).env.MLFLOW_EXPERIMENT_ID] })).runs.length;
    t.app.projects.setMember(speech, MEMBER.username, 'viewer', by);
    try {
      expect(() => tracking.prepare(job)).toThrow(/needs the editor role in project "speech"/);
    } finally {
      t.app.projects.setMember(speech, MEMBER.username, 'editor', by);
    }
    const experimentId = tracking.prepare(submit({ project: 'speech' })).env.MLFLOW_EXPERIMENT_ID!;
    expect((await mlflowAs(t, ADMIN).ok('POST', '/runs/search', { experiment_ids: [experimentId] })).runs.length).toBe(runsBefore + 1);

    await mlflowAs(t, MEMBER).ok('POST', '/experiments/delete', { experiment_id: experimentId });
    expect(() => tracking.prepare(job)).toThrow('experiment "jobs/speech" is deleted: restore it so that jobs can log to it');
    await mlflowAs(t, MEMBER).ok('POST', '/experiments/restore', { experiment_id: experimentId });

    t.app.projects.create({ name: 'audio' }, by);
    t.app.projects.setMember(t.app.projects.get('audio'), MEMBER.username, 'editor', by);
    await mlflowAs(t, MEMBER).createExperiment('jobs/audio');
    expect(() => tracking.prepare(submit({ project: 'audio' }))).toThrow(/experiment "jobs\/audio" belongs to another project/);
  });

  it('needs the appliance on a fixed port to point the container at', async () => {
    const loose = createJobTracking({ ...t.app, config: { ...t.app.config, port: 0 } });
    expect(() => loose.prepare(submit())).toThrow(/must be fixed/);
  });
});

describe('finish', () => {
  it.each([
    ['succeeded', 'FINISHED'],
    ['failed', 'FAILED'],
    ['timed_out', 'FAILED'],
    ['lost', 'FAILED'],
    ['cancelled', 'KILLED'],
  ] as const)('a job that %s leaves its run %s, ended when the job ended, and its token revoked', async (state, status) => {
    const job = submit();
    const { env, mlflowRunId } = tracking.prepare(job);
    const finishedAt = t.clock.now + 90_000;
    tracking.finish({ ...job, state, finishedAt, mlflowRunId });
    expect((await runOf(mlflowRunId)).info).toMatchObject({ status, end_time: finishedAt });
    expect(await asJob(env, '/runs/log-metric', { run_id: mlflowRunId, key: 'late', value: 1, timestamp: 1 })).toBe(401);
  });

  it('never throws: a job without a run is left alone, a run its user may no longer write still loses its token', async () => {
    expect(() => tracking.finish(submit())).not.toThrow();
    const job = submit({ project: 'speech' });
    const { env, mlflowRunId } = tracking.prepare(job);
    const speech = t.app.projects.get('speech');
    t.app.projects.removeMember(speech, MEMBER.username, by);
    try {
      tracking.finish({ ...job, state: 'succeeded', finishedAt: t.clock.now, mlflowRunId });
    } finally {
      t.app.projects.setMember(speech, MEMBER.username, 'editor', by);
    }
    expect(warnings).toHaveLength(1);
    expect((await runOf(mlflowRunId)).info.status).toBe('RUNNING');
    expect(await asJob(env, '/runs/set-tag', { run_id: mlflowRunId, key: 'k', value: 'v' })).toBe(401);
  });
});
