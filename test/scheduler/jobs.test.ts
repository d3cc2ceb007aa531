import { beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../../src/lib/errors.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import type { Jobs } from '../../src/scheduler/jobs.ts';
import { ADMIN, createTestApp, MEMBER, type TestApp } from '../helpers/test-app.ts';
import { addUser } from '../server/mlflow/tracking-client.ts';

let t: TestApp;
let jobs: Jobs;
const userNamed = (name: string) => t.app.users.get(name);
const submission = (fields: Record<string, unknown> = {}) => jobSubmissionSchema.parse({ image: 'trainyard/python:bookworm', command: ['python3', 'train.py'], ...fields });

beforeAll(async () => {
  t = await createTestApp();
  jobs = t.app.jobs;
  await addUser(t, 'vic', 'viewer');
  await addUser(t, 'olga', undefined);
});

describe('a submission', () => {
  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['a command given as one string', { command: 'python train.py' }, 'command must be a list of arguments'],
    ['an empty command', { command: [] }, 'command'],
    ['an image that is not a reference', { image: 'Not An Image!' }, 'Docker image reference'],
    ['an env name with a dash', { env: { 'MY-VAR': '1' } }, 'environment variable names'],
    ['an env name Trainyard sets', { env: { MLFLOW_RUN_ID: 'x' } }, 'set by Trainyard'],
    ['negative GPUs', { gpus: -1 }, 'gpus'],
    ['fractional GPUs', { gpus: 1.5 }, 'gpus'],
    ['whole GPUs and a slice together', { gpus: 1, gpuMemory: '20GB' }, 'not both'],
    ['a negative memory', { memory: '-4GB' }, 'memory must be a size'],
    ['a memory in parsecs', { memory: '4 parsecs' }, 'memory must be a size'],
    ['a time limit in fortnights', { timeLimit: '2 fortnights' }, 'timeLimit must be a duration'],
    ['eleven retries', { retries: 11 }, 'retries'],
    ['an unknown field', { gpu: 1 }, 'gpu'],
  ];
  for (const [name, fields, message] of refused) {
    it(`refuses ${name}`, () => {
      const result = jobSubmissionSchema.safeParse({ image: 'busybox', command: ['true'], ...fields });
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues)).toContain(message);
    });
  }

  it('reads sizes and durations as people write them', () => {
    expect(submission({ gpuMemory: '20GB', memory: '512m', timeLimit: '2h', cpus: 2.5 })).toMatchObject({
      gpuMemory: 20 * 2 ** 30,
      memory: 512 * 2 ** 20,
      timeLimit: 2 * 3_600_000,
      cpus: 2.5,
      project: 'default',
      priority: 0,
      retries: 0,
    });
  });
});

describe('jobs', () => {
  it('queues a submission with its first event and names it after its command', () => {
    const job = jobs.submit(userNamed(MEMBER.username), submission({ gpus: 2, env: { EPOCHS: '3' } }));
    expect(job).toMatchObject({ state: 'queued', name: 'python3 train.py', gpus: 2, env: { EPOCHS: '3' }, gpuUuids: [], attempts: 0 });
    expect(jobs.events(userNamed(MEMBER.username), job.id)).toMatchObject([{ fromState: null, toState: 'queued', reason: 'submitted' }]);
  });

  it('lets only editors of the project submit, and hides jobs from outsiders', () => {
    expect(() => jobs.submit(userNamed('vic'), submission())).toThrow(HttpError);
    const job = jobs.submit(userNamed(MEMBER.username), submission());
    expect(jobs.get(userNamed('vic'), job.id).id).toBe(job.id);
    expect(() => jobs.get(userNamed('olga'), job.id)).toThrow(`job ${job.id} does not exist`);
    expect(jobs.list(userNamed('olga'), { limit: 50 })).toEqual([]);
    expect(jobs.list(userNamed(ADMIN.username), { limit: 50 }).map(({ id }) => id)).toContain(job.id);
  });

  it('records every move with its reason, and refuses moves the state machine does not allow', () => {
    const { id } = jobs.submit(userNamed(MEMBER.username), submission());
    expect(jobs.move(id, 'queued', 'starting', 'placed on GPU-a', { gpuUuids: ['GPU-a'] })).toMatchObject({ state: 'starting', gpuUuids: ['GPU-a'] });
    // A second writer that still believes the job is queued loses.
    expect(jobs.move(id, 'queued', 'starting', 'placed twice')).toBeUndefined();
    jobs.move(id, 'starting', 'running', 'container started');
    jobs.move(id, 'running', 'succeeded', 'exit code 0', { exitCode: 0 });
    expect(() => jobs.move(id, 'succeeded', 'running', 'again')).toThrow('cannot move from succeeded to running');
    expect(jobs.events(userNamed(MEMBER.username), id).map(({ toState, reason }) => [toState, reason])).toEqual([
      ['queued', 'submitted'],
      ['starting', 'placed on GPU-a'],
      ['running', 'container started'],
      ['succeeded', 'exit code 0'],
    ]);
  });

  it('cancels a queued job at once, marks a running one for the scheduler, and refuses a finished one', () => {
    const mia = userNamed(MEMBER.username);
    const queued = jobs.submit(mia, submission());
    expect(jobs.cancel(mia, queued.id)).toMatchObject({ state: 'cancelled', reason: 'cancelled by mia' });
    expect(() => jobs.cancel(mia, queued.id)).toThrow('has already finished (cancelled)');

    const running = jobs.submit(mia, submission());
    jobs.move(running.id, 'queued', 'starting', 'placed');
    jobs.move(running.id, 'starting', 'running', 'started');
    const asked: number[] = [];
    const stop = t.app.bus.subscribe('job.cancel-requested', ({ job }) => asked.push(job.id));
    expect(jobs.cancel(mia, running.id)).toMatchObject({ state: 'running', cancelRequestedAt: t.clock.now });
    stop();
    expect(asked).toEqual([running.id]);
    expect(() => jobs.cancel(userNamed('vic'), running.id)).toThrow(HttpError);
  });

  it('lists newest first, by state and by page', () => {
    const mia = userNamed(MEMBER.username);
    const ids = [1, 2, 3].map(() => jobs.submit(mia, submission({ project: 'default' })).id);
    const page = jobs.list(mia, { states: ['queued'], limit: 2 });
    expect(page.map(({ id }) => id)).toEqual([ids[2], ids[1]]);
    expect(jobs.list(mia, { states: ['queued'], limit: 1, before: ids[1] }).map(({ id }) => id)).toEqual([ids[0]]);
    expect(() => jobs.list(mia, { project: 'nope', limit: 5 })).toThrow('does not exist');
  });
});
