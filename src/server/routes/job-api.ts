import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { App } from '../../app.ts';
import { jobJsonWriter } from '../../scheduler/job-json.ts';
import { jobSubmissionSchema } from '../../scheduler/job-request.ts';
import { checkSubmission } from '../../scheduler/submission-check.ts';
import { FINISHED_STATES, isFinished } from '../../scheduler/job-states.ts';
import type { JobEventRecord, JobRecord, JobState } from '../../scheduler/jobs.ts';
import { principalOf, type AppContext, type AppEnv } from '../context.ts';
import { parseJobId } from './job-pages.ts';
import { parseWith, readJson } from '../request-body.ts';

const JOB_STATES: readonly JobState[] = ['queued', 'starting', 'running', ...FINISHED_STATES];
const MAX_LOG_LINES = 10_000;
const HEARTBEAT_MS = 20_000;

const stateList = z.string().transform((text, context) => {
  const states = text.split(',').filter(Boolean);
  const unknown = states.find((state) => !JOB_STATES.includes(state as JobState));
  if (unknown !== undefined) {
    context.addIssue({ code: 'custom', message: `"${unknown}" is not a job state: use ${JOB_STATES.join(', ')}` });
    return z.NEVER;
  }
  return states as JobState[];
});
const flag = z.enum(['0', '1', 'false', 'true']).transform((value) => value === '1' || value === 'true');

const listQuerySchema = z.object({
  state: stateList.optional(),
  project: z.string().min(1).optional(),
  mine: flag.optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const logQuerySchema = z.object({
  from: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(MAX_LOG_LINES).default(MAX_LOG_LINES),
  follow: flag.default(false),
});

/** Last-Event-ID is the number of the last line the client has; it resumes with the next one. */
const lastEventIdSchema = z.string().regex(/^\d{1,15}$/, 'Last-Event-ID must be a line number').transform((id) => Number(id) + 1);

const eventJson = ({ at, fromState, toState, reason }: JobEventRecord) => ({ at, from: fromState, to: toState, reason });

/** The native jobs API: submit, list, read, cancel, and a job's log (a page of lines, or followed as SSE). */
export function jobApi(app: App) {
  const api = new Hono<AppEnv>();
  // A job that names no image runs in the appliance's default one.
  const submissionSchema = z.preprocess(
    (body) => (body !== null && typeof body === 'object' && !Array.isArray(body) && !('image' in body) ? { ...body, image: app.config.defaultJobImage } : body),
    jobSubmissionSchema,
  );
  const writerFor = (c: AppContext) => jobJsonWriter(app, principalOf(c).user);
  const one = (c: AppContext, job: JobRecord) => writerFor(c)(job);

  api.post('/jobs', async (c) => {
    const { user } = principalOf(c);
    const submission = await readJson(c, submissionSchema);
    await checkSubmission(app, user, submission);
    if (submission.snapshotId !== undefined) app.snapshots.use(user, submission.snapshotId);
    return c.json({ job: one(c, app.jobs.submit(user, submission)) }, 201);
  });

  api.get('/jobs', (c) => {
    const { user } = principalOf(c);
    const query = parseWith(listQuerySchema, c.req.query());
    const jobs = app.jobs.list(user, {
      limit: query.limit + 1,
      ...(query.state && { states: query.state }),
      ...(query.project && { project: query.project }),
      ...(query.mine && { userId: user.id }),
      ...(query.before !== undefined && { before: query.before }),
    });
    const page = jobs.slice(0, query.limit);
    return c.json({ jobs: page.map(writerFor(c)), next_before: jobs.length > query.limit ? page.at(-1)!.id : null });
  });

  api.get('/jobs/:id', (c) => {
    const { user } = principalOf(c);
    const id = parseJobId(c.req.param('id'));
    const job = app.jobs.get(user, id);
    return c.json({ job: one(c, job), events: app.jobs.events(user, id).map(eventJson) });
  });

  api.post('/jobs/:id/cancel', (c) => c.json({ job: one(c, app.jobs.cancel(principalOf(c).user, parseJobId(c.req.param('id')))) }));

  api.get('/jobs/:id/logs', (c) => {
    const id = app.jobs.get(principalOf(c).user, parseJobId(c.req.param('id'))).id;
    const query = parseWith(logQuerySchema, c.req.query());
    if (!query.follow) {
      const lines = app.jobLogs.read(id, query.from).slice(0, query.limit);
      return c.json({ lines, next: query.from + lines.length });
    }
    const resumeAt = c.req.header('Last-Event-ID');
    const from = resumeAt === undefined ? query.from : parseWith(lastEventIdSchema, resumeAt);
    return streamSSE(c, async (stream) => {
      const gone = new AbortController();
      stream.onAbort(() => gone.abort());
      const signal = AbortSignal.any([c.req.raw.signal, gone.signal]);
      const finished = () => isFinished(app.jobs.byId(id)?.state ?? 'lost');
      // A comment now and then keeps proxies from closing a quiet stream (a job waiting in the queue).
      const heartbeat = setInterval(() => void stream.write(': waiting\n\n'), HEARTBEAT_MS);
      let number = from;
      try {
        for await (const line of app.jobLogs.follow(id, { from, finished, signal })) {
          await stream.writeSSE({ id: String(number++), data: JSON.stringify(line) });
        }
      } finally {
        clearInterval(heartbeat);
      }
      if (signal.aborted) return;
      const job = app.jobs.byId(id);
      await stream.writeSSE({ event: 'end', data: JSON.stringify({ state: job?.state ?? 'lost', exitCode: job?.exitCode ?? null, reason: job?.reason ?? '' }) });
    });
  });

  return api;
}
