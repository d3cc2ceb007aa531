import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { Principal } from '../../auth/credentials.ts';
import { roleAtLeast } from '../../auth/projects.ts';
import type { UserRecord } from '../../auth/user-queries.ts';
import { badRequest, notFound } from '../../lib/errors.ts';
import { jobJsonWriter } from '../../scheduler/job-json.ts';
import { jobSubmissionSchema } from '../../scheduler/job-request.ts';
import { isFinished } from '../../scheduler/job-states.ts';
import type { JobRecord, JobState } from '../../scheduler/jobs.ts';
import { checkSubmission } from '../../scheduler/submission-check.ts';
import { gpuLabels } from '../../../web/views/gpu-board.ts';
import { JOB_STATE_NAMES, jobHref, type JobRow } from '../../../web/views/job-format.ts';
import { LOG_LINES_SHOWN, logTail } from '../../../web/views/job-log.ts';
import { jobPage, jobSummary, type JobDetail } from '../../../web/views/job-page.ts';
import type { SubmitForm } from '../../../web/views/job-submit-form.ts';
import { jobFilterQuery, jobSubmitted, jobTables, jobsPage, type JobFilter, type JobTables } from '../../../web/views/jobs-page.ts';
import type { Assets } from '../assets.ts';
import { isHtmx, principalOf, type AppContext, type AppEnv } from '../context.ts';
import { fragmentOrPage, pageProps } from '../page-props.ts';
import { parseWith, readForm } from '../request-body.ts';
import { resourceChartAssets } from './monitoring-api.ts';

const HISTORY_PAGE_SIZE = 50;
const QUEUE_LIMIT = 500;
const ACTIVE_STATES: JobState[] = ['queued', 'starting', 'running'];
const QUEUE_ORDER: Partial<Record<JobState, number>> = { running: 0, starting: 1, queued: 2 };

/** The list's filter from query parameters; anything unknown is a 400 that says what is allowed. */
export function parseJobFilter(read: (name: string) => string | undefined): JobFilter {
  const project = read('project') || undefined;
  const mine = read('mine') || undefined;
  if (mine !== undefined && mine !== '1') throw badRequest(`mine must be 1 or left out, got "${mine}"`);
  const state = read('state') || undefined;
  if (state !== undefined && !JOB_STATE_NAMES.includes(state as JobState)) throw badRequest(`state must be one of ${JOB_STATE_NAMES.join(', ')}; got "${state}"`);
  const before = read('before') || undefined;
  if (before !== undefined && !/^[1-9]\d{0,14}$/.test(before)) throw badRequest(`before must be a job id, got "${before}"`);
  return { project, mine: mine === '1', state: state as JobState | undefined, before: before === undefined ? undefined : Number(before) };
}

/** A job id from a path or a feed; anything else names no job. */
export function parseJobId(text: string | undefined): number {
  if (!text || !/^[1-9]\d{0,14}$/.test(text)) throw notFound(`job ${text ?? ''} does not exist`);
  return Number(text);
}

/** The names of the owners of jobs, for the tables and the GPU board: each project and user looked up once. */
export function jobRows(app: App, user: UserRecord) {
  const names = jobJsonWriter(app, user);
  return (job: JobRecord): JobRow => {
    const { project, user: owner } = names(job);
    return { job, project, user: owner };
  };
}

const byQueueOrder = (a: JobRecord, b: JobRecord) => QUEUE_ORDER[a.state]! - QUEUE_ORDER[b.state]! || b.priority - a.priority || a.id - b.id;

/** The queue and one page of the history, as `user` may see them under `filter`. */
export async function jobTablesFor(app: App, user: UserRecord, filter: JobFilter): Promise<JobTables> {
  const scope = { ...(filter.project && { project: filter.project }), ...(filter.mine && { userId: user.id }) };
  const wanted = (states: JobState[]) => (filter.state ? states.filter((state) => state === filter.state) : states);
  const queueStates = wanted(ACTIVE_STATES);
  const historyStates = wanted(JOB_STATE_NAMES.filter(isFinished));
  const queue = queueStates.length ? app.jobs.list(user, { ...scope, states: queueStates, limit: QUEUE_LIMIT + 1 }) : [];
  const history = historyStates.length
    ? app.jobs.list(user, { ...scope, states: historyStates, limit: HISTORY_PAGE_SIZE + 1, ...(filter.before !== undefined && { before: filter.before }) })
    : [];
  const shown = history.slice(0, HISTORY_PAGE_SIZE);
  const toRow = jobRows(app, user);
  return {
    filter,
    queue: queue.slice(0, QUEUE_LIMIT).sort(byQueueOrder).map(toRow),
    queueTruncated: queue.length > QUEUE_LIMIT,
    history: shown.map(toRow),
    olderThan: history.length > HISTORY_PAGE_SIZE ? shown.at(-1)!.id : undefined,
    gpuLabels: gpuLabels(await app.gpus.list()),
    now: app.now(),
  };
}

/** One job with what its page shows besides the log; 404 when `principal` may not see it. */
export async function jobDetailFor(app: App, principal: Principal, id: number): Promise<JobDetail> {
  const { user, csrfToken = '' } = principal;
  const job = app.jobs.get(user, id);
  const { role } = app.projects.authorizeId(user, job.projectId, 'viewer');
  return {
    ...jobRows(app, user)(job),
    events: app.jobs.events(user, id),
    gpuLabels: gpuLabels(await app.gpus.list()),
    now: app.now(),
    editing: roleAtLeast(role, 'editor') ? { csrfToken } : undefined,
  };
}

const number = (text: string) => (/^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text);

/** `NAME=value` lines into an object; the schema then checks the names. */
function environmentFrom(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const equals = line.indexOf('=');
    if (equals <= 0) throw badRequest(`env line ${index + 1}: write NAME=value, got "${line.slice(0, 80)}"`);
    const name = line.slice(0, equals).trim();
    if (Object.hasOwn(env, name)) throw badRequest(`env: ${name} is set twice`);
    env[name] = line.slice(equals + 1);
  });
  return env;
}

/** The submit form's fields as a submission the API would accept: one argument per command line, no shell. */
export function submissionFromForm(form: Record<string, string>): unknown {
  const text = (name: string) => (form[name] ?? '').trim();
  const optional = (name: string, convert: (value: string) => unknown = (value) => value) => (text(name) === '' ? undefined : convert(text(name)));
  const command = (form.command ?? '').split(/\r?\n/).filter((line) => line.trim() !== '');
  if (command.length === 0) throw badRequest('command: write the program and its arguments, one per line');
  return {
    project: optional('project'),
    name: optional('name'),
    image: text('image'),
    command,
    env: environmentFrom(form.env ?? ''),
    gpus: optional('gpus', number),
    gpuMemory: optional('gpuMemory', number),
    cpus: optional('cpus', number),
    memory: optional('memory', number),
    priority: optional('priority', number),
    timeLimit: optional('timeLimit', number),
  };
}

/** The queue, the history, a job's page with its log, and the forms that submit and cancel jobs. */
export function jobPages(app: App, assets: Assets) {
  const routes = new Hono<AppEnv>();

  /** The projects the viewer sees, and the form when they may submit somewhere. */
  const choicesFor = (c: AppContext): { projects: string[]; submit: SubmitForm | undefined } => {
    const { user, csrfToken = '' } = principalOf(c);
    const memberships = app.projects.listFor(user).sort((a, b) => Number(b.project.name === 'default') - Number(a.project.name === 'default') || a.project.name.localeCompare(b.project.name));
    const writable = memberships.filter(({ role }) => roleAtLeast(role, 'editor')).map(({ project }) => project.name);
    return {
      projects: memberships.map(({ project }) => project.name),
      submit: writable.length ? { csrfToken, projects: writable, defaultImage: app.config.defaultJobImage } : undefined,
    };
  };

  routes.get('/jobs', async (c) => {
    const filter = parseJobFilter((name) => c.req.query(name));
    const tables = await jobTablesFor(app, principalOf(c).user, filter);
    const live = [`jobs:${encodeURIComponent(jobFilterQuery(filter))}`];
    return fragmentOrPage(
      c,
      () => jobTables(tables),
      () => jobsPage({ ...pageProps(c, assets, 'jobs', 'Jobs', live), tables, ...choicesFor(c) }),
    );
  });

  routes.post('/jobs', async (c) => {
    const { user } = principalOf(c);
    const filter = parseJobFilter((name) => c.req.query(name));
    const submission = parseWith(jobSubmissionSchema, submissionFromForm(await readForm(c)));
    await checkSubmission(app, user, submission);
    const job = app.jobs.submit(user, submission);
    if (!isHtmx(c)) return c.redirect(jobHref(job.id), 303);
    return c.html(jobSubmitted(await jobTablesFor(app, user, filter), job));
  });

  routes.get('/jobs/:id', async (c) => {
    const principal = principalOf(c);
    const detail = await jobDetailFor(app, principal, parseJobId(c.req.param('id')));
    const { job } = detail;
    const followed = !isFinished(job.state);
    return fragmentOrPage(
      c,
      () => jobSummary(detail),
      () =>
        jobPage({
          ...pageProps(c, assets, 'jobs', `Job ${job.id}`, followed ? [`job:${job.id}`] : undefined),
          ...resourceChartAssets(assets),
          detail,
          log: logTail(app.jobLogs.tail(job.id, LOG_LINES_SHOWN)),
          followed,
        }),
    );
  });

  routes.post('/jobs/:id/cancel', async (c) => {
    const principal = principalOf(c);
    const id = parseJobId(c.req.param('id'));
    app.jobs.cancel(principal.user, id);
    if (!isHtmx(c)) return c.redirect(jobHref(id), 303);
    return c.html(jobSummary(await jobDetailFor(app, principal, id)));
  });

  return routes;
}
