import { upgradeWebSocket } from '@hono/node-server';
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import type { App } from '../app.ts';
import type { Principal } from '../auth/credentials.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import { HttpError, badRequest } from '../lib/errors.ts';
import type { JobLogLine } from '../scheduler/job-logs.ts';
import type { Html } from '../../web/views/html.ts';
import { alertBadgePartial } from '../../web/views/alert-badge.ts';
import { alertBoardPartial } from '../../web/views/alerts-page.ts';
import { auditLivePartial } from '../../web/views/audit-page.ts';
import { LOG_LINES_SHOWN, logAppendPartial, logReplacePartial, logTail } from '../../web/views/job-log.ts';
import { jobSummaryPartial } from '../../web/views/job-page.ts';
import { jobTablesPartial } from '../../web/views/jobs-page.ts';
import { chartPointsMessage } from '../../web/views/resource-chart.ts';
import type { MonitorSample } from '../monitoring/sample.ts';
import type { SeriesSubject } from '../monitoring/series.ts';
import { principalOf, type AppEnv } from './context.ts';
import { SESSION_COOKIE } from './middleware/authenticate.ts';
import { alertBoardFor } from './routes/alert-pages.ts';
import { jobDetailFor, jobTablesFor, parseJobFilter, parseJobId } from './routes/job-pages.ts';
import { authorizeSubject, chartPoints, parseSubject } from './routes/monitoring-api.ts';

/** Queues a fragment; `render` runs when its turn comes, so nothing is rendered for a socket that has closed. */
export type Push = (render: () => Html) => void;
/** One feed on one open socket: starts pushing, and returns how to stop. */
export type Subscription = (push: Push) => () => void;
/** Checks the argument and the caller's right to the feed (a 4xx before the upgrade), and says how to subscribe. */
export type Feed = (principal: Principal, argument: string | undefined) => Subscription;

const OPEN = 1;
/** A burst of changes (a scheduling round rewriting many waiting reasons) becomes one re-render this much later. */
const JOBS_SETTLE_MS = 250;
/** A sampler round fires and resolves its alerts one by one: the viewer gets one re-render after the round. */
const ALERTS_SETTLE_MS = 250;
/** New log lines are sent in batches at most this often. */
const LOG_BATCH_MS = 100;

/** Runs `work` once, `ms` after the first of a burst of triggers. */
function coalesced(ms: number, work: () => void) {
  let timer: NodeJS.Timeout | undefined;
  return {
    trigger() {
      timer ??= setTimeout(() => {
        timer = undefined;
        work();
      }, ms);
    },
    cancel: () => clearTimeout(timer),
  };
}

const auditFeed = (app: App): Feed => (principal) => (push) =>
  app.bus.subscribe('audit.recorded', (event) => {
    if (principal.user.isAdmin) push(() => auditLivePartial(event));
  });

/** The jobs page's tables under the page's filter, sent again when a job the viewer may see changes. */
const jobsFeed = (app: App): Feed => (principal, argument) => {
  const query = new URLSearchParams(argument ?? '');
  const filter = parseJobFilter((name) => query.get(name) ?? undefined);
  if (filter.project) app.projects.authorize(principal.user, filter.project, 'viewer');
  return (push) => {
    const refresh = coalesced(JOBS_SETTLE_MS, () => push(async () => jobTablesPartial(await jobTablesFor(app, principal.user, filter))));
    const unsubscribe = app.bus.subscribe('job.changed', ({ job }) => {
      if (app.projects.canSee(principal.user, job.projectId)) refresh.trigger();
    });
    // Jobs may have changed while the socket was closed (a background tab closes it): catch up once it opens.
    refresh.trigger();
    return () => {
      unsubscribe();
      refresh.cancel();
    };
  };
};

/**
 * A job's log: the stored tail first (which also covers lines printed before the socket opened, or while a
 * background tab had it closed), then new lines in batches. Lines are numbered, so none is sent twice.
 */
function followLog(app: App, jobId: number, push: Push): () => void {
  let pending: JobLogLine[] = [];
  let skipped = 0;
  let next = 0;
  const batch = coalesced(LOG_BATCH_MS, () => {
    const tail = { lines: pending, skipped };
    pending = [];
    skipped = 0;
    push(() => logAppendPartial(tail));
  });
  // Subscribing and reading happen in one synchronous step: no line can slip between them.
  const unsubscribe = app.bus.subscribe('job.log', (event) => {
    if (event.jobId !== jobId) return;
    pending.push(...event.lines.slice(Math.max(0, next - event.first)));
    next = Math.max(next, event.first + event.lines.length);
    if (pending.length > LOG_LINES_SHOWN) {
      skipped += pending.length - LOG_LINES_SHOWN;
      pending = pending.slice(-LOG_LINES_SHOWN);
    }
    if (pending.length) batch.trigger();
  });
  const stored = app.jobLogs.tail(jobId, LOG_LINES_SHOWN);
  next = stored.total;
  const tail = logTail(stored);
  push(() => logReplacePartial(tail));
  return () => {
    unsubscribe();
    batch.cancel();
  };
}

/** After each sampler round, the new chart points of the subjects `subjectsOf` picks from it; `check` runs before each push. */
const samplePoints = (app: App, subjectsOf: (sample: MonitorSample) => SeriesSubject[], check = () => {}): Subscription => (push) =>
  app.bus.subscribe('monitoring.sample', (sample) => {
    const points = chartPoints(sample, subjectsOf(sample));
    if (points.length === 0) return;
    push(() => {
      check();
      return chartPointsMessage(points);
    });
  });

/** One job's page: its summary again when it changes, its log as it grows, and its container's resource points. */
const jobFeed = (app: App): Feed => (principal, argument) => {
  const id = parseJobId(argument);
  app.jobs.get(principal.user, id);
  return (push) => {
    const summary = coalesced(JOBS_SETTLE_MS, () => push(async () => jobSummaryPartial(await jobDetailFor(app, principal, id))));
    const unsubscribe = app.bus.subscribe('job.changed', ({ job }) => {
      if (job.id === id) summary.trigger();
    });
    // The job may have moved on between the page's render and this socket.
    summary.trigger();
    // Lines and points go only to a viewer who may still see the job; one who may not has the socket closed.
    const stillVisible: Push = (render) =>
      push(() => {
        app.jobs.get(principal.user, id);
        return render();
      });
    const stopLog = followLog(app, id, stillVisible);
    const stopPoints = samplePoints(app, () => [{ kind: 'job', jobId: id }])(stillVisible);
    return () => {
      unsubscribe();
      summary.cancel();
      stopLog();
      stopPoints();
    };
  };
};

/** Every GPU's new point, for the GPU page's charts: like the board, for anyone signed in. */
const gpusFeed = (app: App): Feed => () => samplePoints(app, (sample) => sample.gpus.map(({ uuid }) => ({ kind: 'gpu', uuid })));

/** One subject's new points (`series:host`, `series:deployment:3`), while the viewer may still see it. */
const seriesFeed = (app: App): Feed => (principal, argument) => {
  const subject = parseSubject(argument ?? '');
  const authorize = () => authorizeSubject(app, principal.user, subject);
  authorize();
  return samplePoints(app, () => [subject], authorize);
};

/** `render`, sent when the socket opens (alerts may have changed since the page) and after each burst of changes the viewer may see. */
const onAlertChanges = (app: App, user: UserRecord, render: () => Html): Subscription => (push) => {
  const refresh = coalesced(ALERTS_SETTLE_MS, () => push(render));
  const unsubscribe = app.bus.subscribe('alert.changed', ({ alert }) => {
    if (app.alerts.canSee(user, alert)) refresh.trigger();
  });
  refresh.trigger();
  return () => {
    unsubscribe();
    refresh.cancel();
  };
};

/** The alerts page's tables. */
const alertsFeed = (app: App): Feed => (principal) => onAlertChanges(app, principal.user, () => alertBoardPartial(alertBoardFor(app, principal.user)));

/** The nav's count of open alerts: every page shows it, so every socket carries it, whatever feeds the page names. */
export const alertBadgeFeed = (app: App): Feed => (principal) =>
  onAlertChanges(app, principal.user, () => alertBadgePartial(app.alerts.openCount(principal.user)));

function requestedFeeds(query: string | undefined) {
  return (query ?? '')
    .split(',')
    .filter(Boolean)
    .map((token) => {
      const colon = token.indexOf(':');
      return colon < 0 ? { name: token, argument: undefined } : { name: token.slice(0, colon), argument: token.slice(colon + 1) };
    });
}

/**
 * The feeds a page may name (`hx-ws:connect="/live?feeds=audit,job:12"`: a name and, after a colon, an
 * argument); each is pushed to it as HTML holding `<hx-partial>` elements, which htmx swaps into their targets.
 */
export function liveFeeds(app: App): Record<string, Feed> {
  return { audit: auditFeed(app), jobs: jobsFeed(app), job: jobFeed(app), gpus: gpusFeed(app), series: seriesFeed(app), alerts: alertsFeed(app) };
}

export function liveRoutes(app: App) {
  const feeds = liveFeeds(app);
  const alertBadge = alertBadgeFeed(app);
  return new Hono<AppEnv>().get(
    '/live',
    async (c, next) => {
      const unknown = requestedFeeds(c.req.query('feeds')).filter(({ name }) => !Object.hasOwn(feeds, name));
      if (unknown.length) throw badRequest(`unknown live feed ${unknown.map(({ name }) => name).join(', ')}; known: ${Object.keys(feeds).join(', ')}`);
      if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') throw badRequest('this endpoint speaks WebSocket');
      await next();
    },
    upgradeWebSocket((c) => {
      const principal = principalOf(c);
      const subscriptions = [alertBadge(principal, undefined), ...requestedFeeds(c.req.query('feeds')).map(({ name, argument }) => feeds[name]!(principal, argument))];
      const unsubscribers: Array<() => void> = [];
      // A socket outlives the request that opened it: before each push, check that the credential still holds
      // (the user may have signed out, been disabled or had the token revoked since).
      const request = { authorization: c.req.header('Authorization'), sessionCookie: getCookie(c, SESSION_COOKIE) };
      const client = { ip: c.get('clientIp'), userAgent: c.req.header('User-Agent') ?? '' };
      const stillSignedIn = () => app.credentials.identify(request, client).then(Boolean, () => false);
      return {
        onOpen(_event, socket) {
          // Pushes go out one after another in the order they were made, each rendered and checked in turn.
          let sending = Promise.resolve();
          const push: Push = (render) => {
            sending = sending
              .then(async () => {
                if (socket.readyState !== OPEN) return;
                if (!(await stillSignedIn())) return socket.close(1008, 'signed out');
                const text = String(await render());
                if (socket.readyState === OPEN) socket.send(text);
              })
              .catch((error: unknown) => {
                // The thing shown went out of reach (deleted, or the viewer lost access): stop, as a reload would.
                if (error instanceof HttpError && error.status < 500) socket.close(1008, 'no longer available');
                else app.log.warn({ err: error }, 'a live update could not be sent');
              });
          };
          for (const subscribe of subscriptions) unsubscribers.push(subscribe(push));
        },
        onClose() {
          for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
        },
      };
    }),
  );
}
