import { Hono } from 'hono';
import { z } from 'zod';
import type { App } from '../../app.ts';
import type { UserRecord } from '../../auth/user-queries.ts';
import { badRequest, notFound } from '../../lib/errors.ts';
import type { MonitorSample } from '../../monitoring/sample.ts';
import { SERIES_FIELDS, type SeriesSubject } from '../../monitoring/series.ts';
import { CHART_WINDOW_MS, subjectText, type ChartPoint } from '../../../web/views/resource-chart.ts';
import type { Assets } from '../assets.ts';
import { principalOf, type AppEnv } from '../context.ts';
import { parseWith } from '../request-body.ts';

const SUBJECTS = 'gpu:<uuid>, host, job:<id> or deployment:<id>';
/** GPU-… and MIG-… uuids; drivers before R470 named MIG devices MIG-GPU-<uuid>/<gi>/<ci>. */
const UNIT_UUID = /^(GPU|MIG)-[0-9A-Za-z/-]{1,100}$/;
const ID = /^[1-9]\d{0,14}$/;
const MAX_POINTS = 10_000;

/** A subject as the series API and the live channel name it (see subjectText); anything else is a 400 that says what is allowed. */
export function parseSubject(text: string): SeriesSubject {
  if (text === 'host') return { kind: 'host' };
  const colon = text.indexOf(':');
  const [kind, rest] = colon < 0 ? [text, ''] : [text.slice(0, colon), text.slice(colon + 1)];
  if (kind === 'gpu' && UNIT_UUID.test(rest)) return { kind, uuid: rest };
  if (kind === 'gpu') throw badRequest(`gpu:<uuid> names a GPU or MIG device by its uuid (GPU-… or MIG-…), got "${rest}"`);
  if ((kind === 'job' || kind === 'deployment') && !ID.test(rest)) throw badRequest(`${kind}:<id> needs a positive whole number, got "${rest}"`);
  if (kind === 'job') return { kind, jobId: Number(rest) };
  if (kind === 'deployment') return { kind, deploymentId: Number(rest) };
  throw badRequest(`subject must be ${SUBJECTS}; got "${text}"`);
}

/**
 * GPUs and the host are for anyone signed in, as the GPU board is; a job's or a deployment's usage only for those
 * who may see its project, and to others it does not exist (404), as on its page.
 */
export function authorizeSubject(app: App, user: UserRecord, subject: SeriesSubject): void {
  if (subject.kind === 'job') app.jobs.get(user, subject.jobId);
  if (subject.kind !== 'deployment') return;
  const deployment = app.deployments.byId(subject.deploymentId);
  if (!deployment || !app.projects.canSee(user, deployment.projectId)) throw notFound(`deployment ${subject.deploymentId} does not exist`);
}

const fieldsOf = (reading: object, fields: readonly string[]) =>
  Object.fromEntries(fields.map((field) => [field, (reading as Record<string, number | null>)[field] ?? null]));

/** Each field summed over the readings that have it; null where none has. */
function sumOf(readings: readonly object[], fields: readonly string[]) {
  const values = readings.map((reading) => fieldsOf(reading, fields));
  return Object.fromEntries(
    fields.map((field) => {
      const known = values.map((value) => value[field]).filter((value): value is number => value !== null);
      return [field, known.length ? known.reduce((sum, value) => sum + value, 0) : null];
    }),
  );
}

/** What one sampler round says of `subject` in its series' fields; undefined when the round has no reading of it. */
function readingOf(sample: MonitorSample, subject: SeriesSubject): ChartPoint['values'] | undefined {
  switch (subject.kind) {
    case 'gpu': {
      const gpu = sample.gpus.find((reading) => reading.uuid === subject.uuid);
      return gpu && fieldsOf(gpu, SERIES_FIELDS.gpu);
    }
    case 'host':
      return sample.host ? fieldsOf(sample.host, SERIES_FIELDS.host) : undefined;
    case 'job': {
      const container = sample.containers.find((reading) => reading.jobId === subject.jobId);
      return container && fieldsOf(container, SERIES_FIELDS.job);
    }
    case 'deployment': {
      const replicas = sample.containers.filter((reading) => reading.deploymentId === subject.deploymentId);
      return replicas.length ? sumOf(replicas, SERIES_FIELDS.deployment) : undefined;
    }
  }
}

/** The points a sampler round adds to the charts of `subjects`, as the live channel pushes them. */
export function chartPoints(sample: MonitorSample, subjects: readonly SeriesSubject[]): ChartPoint[] {
  return subjects.flatMap((subject) => {
    const values = readingOf(sample, subject);
    return values ? [{ subject: subjectText(subject), at: sample.at, values }] : [];
  });
}

/** The chart library and the script that draws resource charts, for the pages that show them. */
export const resourceChartAssets = (assets: Assets) => ({
  styles: [assets.url('uplot.min.css')],
  scripts: [assets.url('uplot.min.js'), assets.url('resource-charts.js')],
});

const time = z.string().regex(/^\d{1,15}$/, 'must be a time in milliseconds since the epoch');
const seriesQuerySchema = z.strictObject({
  subject: z.string({ error: `subject is required: ${SUBJECTS}` }),
  from: time.transform(Number).optional(),
  to: time.transform(Number).optional(),
  maxPoints: z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(1, 'must be at least 1').max(MAX_POINTS, `must be at most ${MAX_POINTS}`))
    .optional(),
});

/** Resource charts' data: a GPU's, the host's, a job's or a deployment's series over a time range, the last hour by default. */
export function monitoringApi(app: App) {
  const routes = new Hono<AppEnv>();

  routes.get('/monitoring/series', (c) => {
    const query = parseWith(seriesQuerySchema, c.req.query());
    const subject = parseSubject(query.subject);
    const to = query.to ?? app.now();
    const from = query.from ?? to - CHART_WINDOW_MS;
    if (from > to) throw badRequest(`from (${from}) must not be after to (${to})`);
    authorizeSubject(app, principalOf(c).user, subject);
    const series = app.monitoring.series({ subject, from, to, ...(query.maxPoints !== undefined && { maxPoints: query.maxPoints }) });
    return c.json({ subject: subjectText(subject), from, to, ...series });
  });

  return routes;
}
