import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAppliance, type Appliance } from '../src/appliance.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connection.ts';
import { applyMigrations } from '../src/db/migrate.ts';
import type { Caller } from '../src/tracking/tracking.ts';
import { median, type BenchResult } from './report.ts';

/**
 * The tracking hot paths of issue 3, through a real appliance (startAppliance on a free port, a temp data dir)
 * over real HTTP with kept-alive connections (Node's fetch), against raw better-sqlite3 inserts of the same rows
 * into a freshly migrated database, measured in the same run:
 * - log-batch ingest of 1000-point batches, in metric points per second, and of 100 keys at one step a call, as
 *   `mlflow.log_metrics` sends them;
 * - single log-metric calls, one after another on one connection, in calls per second, against a bare node:http
 *   server answering the same calls with the same client (the floor the machine sets); and the same calls by a
 *   project editor, as most mlflow clients are, for whom the role check is real (a site admin's is a shortcut);
 * - runs/search over 10,000 runs with a metric filter and a metric order, median latency;
 * - the whole history of a 100,000-point metric, median latency;
 * - the dashboard's chart series of a 1,000,000-point metric downsampled to 1000 points, median latency, against
 *   raw better-sqlite3 reading the same metric's steps and values from the same database.
 */

const POINTS_PER_BATCH = 1000;
const KEYS_PER_BATCH = 10;
const BATCHES_PER_ROUND = 100;
const IN_FLIGHT = 4;
const WIDE_KEYS = 100;
const WIDE_BATCHES_PER_ROUND = 500;
const ROUNDS = 5;
const SINGLE_CALLS = 3000;
const SEARCH_RUNS = 10_000;
const SEARCH_SAMPLES = 50;
const HISTORY_POINTS = 100_000;
const HISTORY_SAMPLES = 10;
const SERIES_POINTS = 1_000_000;
const SERIES_SAMPLES = 10;
/** The chart series' one spike, which downsampling must keep. */
const SERIES_SPIKE_STEP = 654_321;
const MLFLOW = '/api/2.0/mlflow';

/**
 * The HTTP client runs in a worker thread, so the appliance has the main thread to itself, as it would with the
 * client in another process: a job is a list of request bodies sent with at most `inFlight` requests at a time,
 * answered with the total time and each request's latency.
 */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const headers = { Authorization: 'Bearer ' + workerData.token, 'Content-Type': 'application/json' };
parentPort.on('message', async ({ method, path, bodies, inFlight, countField }) => {
  try {
    const times = new Array(bodies.length);
    let next = 0;
    let items;
    const started = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next < bodies.length) {
        const index = next++;
        const sent = performance.now();
        const response = await fetch(workerData.url + path, { method, headers, body: method === 'GET' ? undefined : bodies[index] });
        const text = await response.text();
        times[index] = performance.now() - sent;
        if (response.status !== 200) throw new Error(method + ' ' + path + ': HTTP ' + response.status + ' ' + text.slice(0, 300));
        if (countField) items = (JSON.parse(text)[countField] || []).length;
      }
    }));
    parentPort.postMessage({ totalMs: performance.now() - started, times, items });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.stack || error) });
  }
});
`;

interface Job {
  method: 'GET' | 'POST';
  path: string;
  bodies: string[];
  inFlight: number;
  /** A list field of the answers whose length is reported (the last answer's). */
  countField?: string;
}

interface JobResult {
  totalMs: number;
  times: number[];
  items?: number;
}

function startClient(url: string, token: string) {
  const worker = new Worker(CLIENT, { eval: true, workerData: { url, token } });
  const run = (job: Job) =>
    new Promise<JobResult>((resolve, reject) => {
      worker.once('message', (answer: JobResult & { error?: string }) => (answer.error ? reject(new Error(answer.error)) : resolve(answer)));
      worker.postMessage(job);
    });
  return { run, stop: () => worker.terminate() };
}

type Point = { key: string; value: number; timestamp: number; step: number };

/** A batch of `POINTS_PER_BATCH` points: KEYS_PER_BATCH keys over consecutive steps. */
function batchMetrics(batch: number): Point[] {
  const stepsPerBatch = POINTS_PER_BATCH / KEYS_PER_BATCH;
  return Array.from({ length: POINTS_PER_BATCH }, (_, index) => {
    const step = batch * stepsPerBatch + Math.floor(index / KEYS_PER_BATCH);
    return { key: `metric_${index % KEYS_PER_BATCH}`, value: Math.sin(step) + index / 1000, timestamp: 1_700_000_000_000 + step, step };
  });
}

/** A training step's metrics in one call: WIDE_KEYS keys at step `batch`. */
function wideMetrics(batch: number): Point[] {
  return Array.from({ length: WIDE_KEYS }, (_, index) => ({ key: `wide_${index}`, value: Math.cos(batch + index), timestamp: 1_700_000_000_000 + batch, step: batch }));
}

const pointCount = (batches: Point[][]) => batches.reduce((count, points) => count + points.length, 0);

/** The baseline: the same rows through one prepared INSERT per point, a transaction per batch, as raw as it gets. */
function rawInsertRate(batches: Point[][], runUuid: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'trainyard-bench-raw-'));
  const db = openDatabase(join(dir, 'raw.db'));
  try {
    applyMigrations(db);
    const client = db.$client;
    client.prepare("INSERT INTO projects (name, description, created_at) VALUES ('raw', '', 0)").run();
    client.prepare("INSERT INTO experiments (id, project_id, name, artifact_location, creation_time, last_update_time) VALUES (1, 1, 'raw', '', 0, 0)").run();
    client.prepare("INSERT INTO runs (run_uuid, experiment_id, status, artifact_uri) VALUES (?, 1, 'RUNNING', '')").run(runUuid);
    const insert = client.prepare('INSERT INTO metrics (run_uuid, key, value, timestamp, step) VALUES (?, ?, ?, ?, ?)');
    const insertBatch = client.transaction((points: Point[]) => {
      for (const point of points) insert.run(runUuid, point.key, point.value, point.timestamp, point.step);
    });
    const started = performance.now();
    for (const points of batches) insertBatch(points);
    return pointCount(batches) / ((performance.now() - started) / 1000);
  } finally {
    db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * log-batch ingest of `batches` over HTTP, each round into a new run, against raw inserts of the same rows, in
 * points per second; round 0 warms up the JIT and the page cache.
 */
async function ingestRates(client: ReturnType<typeof startClient>, newRun: () => string, batches: Point[][]) {
  const ingest: number[] = [];
  const raw: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const runId = newRun();
    const bodies = batches.map((metrics) => JSON.stringify({ run_id: runId, metrics }));
    const { totalMs } = await client.run({ method: 'POST', path: `${MLFLOW}/runs/log-batch`, bodies, inFlight: IN_FLIGHT });
    const rawRate = rawInsertRate(batches, runId);
    if (round > 0) {
      ingest.push(Math.round(pointCount(batches) / (totalMs / 1000)));
      raw.push(Math.round(rawRate));
    }
  }
  return { ingest, raw };
}

/**
 * The floor for one-at-a-time calls: a bare node:http server that reads the body and answers `{}`, driven by the
 * same client, in calls per second.
 */
async function bareServerCallRate(bodies: string[]): Promise<number> {
  const server = createHttpServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = startClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'none');
  try {
    await client.run({ method: 'POST', path: '/', bodies, inFlight: 1 });
    const { totalMs } = await client.run({ method: 'POST', path: '/', bodies, inFlight: 1 });
    return Math.round(bodies.length / (totalMs / 1000));
  } finally {
    await client.stop();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** 10,000 runs written through the tracking domain directly (the search is what is measured, not the set-up). */
function seedSearchRuns(appliance: Appliance, caller: Caller, experimentId: string): void {
  const { runs, metrics } = appliance.app.tracking;
  for (let index = 0; index < SEARCH_RUNS; index++) {
    const run = runs.create(caller, { experiment_id: experimentId, run_name: `run-${index}`, start_time: 1_700_000_000_000 + index });
    metrics.logBatch(caller, {
      run_id: run.run.info.run_id,
      metrics: ['acc', 'loss', 'f1'].map((key, k) => ({ key, value: ((index * 7919 + k * 104729) % 10007) / 10007, timestamp: 1, step: 0 })),
      params: [
        { key: 'opt', value: index % 3 === 0 ? 'adam' : 'sgd' },
        { key: 'lr', value: String(10 ** -(index % 5)) },
      ],
      tags: [{ key: 'team', value: `team-${index % 7}` }],
    });
  }
}

function seedHistory(appliance: Appliance, caller: Caller, runId: string): void {
  for (let batch = 0; batch < HISTORY_POINTS / POINTS_PER_BATCH; batch++) {
    const metrics = Array.from({ length: POINTS_PER_BATCH }, (_, index) => {
      const step = batch * POINTS_PER_BATCH + index;
      return { key: 'loss', value: 1 / (step + 1), timestamp: 1_700_000_000_000 + step, step };
    });
    appliance.app.tracking.metrics.logBatch(caller, { run_id: runId, metrics });
  }
}

/** A noisy falling curve with one spike, logged as a training loop would: 1000 consecutive steps a call. */
function seedSeries(appliance: Appliance, caller: Caller, runId: string): void {
  for (let batch = 0; batch < SERIES_POINTS / POINTS_PER_BATCH; batch++) {
    const metrics = Array.from({ length: POINTS_PER_BATCH }, (_, index) => {
      const step = batch * POINTS_PER_BATCH + index;
      const value = step === SERIES_SPIKE_STEP ? 1000 : 1 / (1 + step / 10_000) + 0.05 * Math.sin(step / 7);
      return { key: 'loss', value, timestamp: 1_700_000_000_000 + step, step };
    });
    appliance.app.tracking.metrics.logBatch(caller, { run_id: runId, metrics });
  }
}

/** The baseline for the series: the same metric's steps and values read raw, in step order, as rows. */
function rawSeriesReadMs(appliance: Appliance, runUuid: string): number[] {
  const read = appliance.app.db.$client.prepare('SELECT step, value FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step').raw();
  return Array.from({ length: SERIES_SAMPLES + 1 }, () => {
    const started = performance.now();
    const rows = read.all(runUuid, 'loss');
    if (rows.length !== SERIES_POINTS) throw new Error(`raw read found ${rows.length} points, expected ${SERIES_POINTS}`);
    return performance.now() - started;
  }).slice(1);
}

const rounded = (ms: number) => Math.round(ms * 100) / 100;

export async function benchTracking(): Promise<BenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'trainyard-bench-tracking-'));
  const appliance = await startAppliance(
    loadConfig({ dataDir, host: '127.0.0.1', port: 0, logLevel: 'silent', adminPassword: 'bench-admin-password' }, {}),
  );
  const admin = appliance.app.users.get('admin');
  const caller: Caller = { user: admin };
  const { secret } = appliance.app.tokens.create(admin, { name: 'bench' }, { actor: 'bench' });
  // A new user is an editor of the default project, where the bench's experiment lies.
  const editor = await appliance.app.users.create({ username: 'bench-editor', password: 'bench-editor-password' }, { actor: 'bench' });
  const client = startClient(appliance.url, secret);
  const editorClient = startClient(appliance.url, appliance.app.tokens.create(editor, { name: 'bench' }, { actor: 'bench' }).secret);
  try {
    // Seeding goes through the tracking domain directly: the set-up is not what is measured.
    const { experiments, runs } = appliance.app.tracking;
    const experimentId = experiments.create(caller, { name: 'bench' }).experiment_id;
    const newRun = () => runs.create(caller, { experiment_id: experimentId }).run.info.run_id;
    const searchExperiment = experiments.create(caller, { name: 'bench-search' }).experiment_id;
    seedSearchRuns(appliance, caller, searchExperiment);
    const historyRun = newRun();
    seedHistory(appliance, caller, historyRun);

    const { ingest, raw } = await ingestRates(client, newRun, Array.from({ length: BATCHES_PER_ROUND }, (_, batch) => batchMetrics(batch)));
    const wide = await ingestRates(client, newRun, Array.from({ length: WIDE_BATCHES_PER_ROUND }, (_, batch) => wideMetrics(batch)));

    // Single log-metric calls, one at a time on one kept-alive connection, by the site admin and by a project editor,
    // against a bare server's floor.
    const singleRun = newRun();
    const editorRun = newRun();
    const single: number[] = [];
    const byEditor: number[] = [];
    const bare: number[] = [];
    const singleCalls = (runId: string, round: number) =>
      Array.from({ length: SINGLE_CALLS }, (_, call) => {
        const step = round * SINGLE_CALLS + call;
        return JSON.stringify({ run_id: runId, key: 'loss', value: 1 / (step + 1), timestamp: 1_700_000_000_000 + step, step });
      });
    const callRate = async (sender: typeof client, bodies: string[]) => {
      const { totalMs } = await sender.run({ method: 'POST', path: `${MLFLOW}/runs/log-metric`, bodies, inFlight: 1 });
      return Math.round(SINGLE_CALLS / (totalMs / 1000));
    };
    for (let round = 0; round <= ROUNDS; round++) {
      const bodies = singleCalls(singleRun, round);
      const adminRate = await callRate(client, bodies);
      const editorRate = await callRate(editorClient, singleCalls(editorRun, round));
      if (round > 0) {
        single.push(adminRate);
        byEditor.push(editorRate);
        bare.push(await bareServerCallRate(bodies));
      }
    }

    // runs/search over 10,000 runs: ~1/6 of them match, ordered by the metric.
    const search = async (maxResults: number) => {
      const body = JSON.stringify({
        experiment_ids: [searchExperiment],
        filter: "metrics.acc > 0.5 and params.opt = 'adam'",
        order_by: ['metrics.acc DESC'],
        max_results: maxResults,
      });
      const job = { method: 'POST' as const, path: `${MLFLOW}/runs/search`, inFlight: 1, countField: 'runs' };
      await client.run({ ...job, bodies: Array(5).fill(body) });
      const { times, items } = await client.run({ ...job, bodies: Array(SEARCH_SAMPLES).fill(body) });
      if (items !== maxResults) throw new Error(`runs/search found ${items} runs, expected ${maxResults}`);
      return times.map(rounded);
    };
    const search100 = await search(100);
    const search1000 = await search(1000);

    // The whole history of a 100,000-point metric in one answer.
    const historyJob = { method: 'GET' as const, path: `${MLFLOW}/metrics/get-history?run_id=${historyRun}&metric_key=loss`, inFlight: 1, countField: 'metrics' };
    await client.run({ ...historyJob, bodies: ['', ''] });
    const { times, items } = await client.run({ ...historyJob, bodies: Array(HISTORY_SAMPLES).fill('') });
    if (items !== HISTORY_POINTS) throw new Error(`get-history answered ${items} points, expected ${HISTORY_POINTS}`);
    const history = times.map(rounded);

    // The dashboard's chart of a 1,000,000-point metric, downsampled to 1000 points on the server; seeded only now
    // so the figures above stay comparable with runs of this bench that had no such metric.
    const seriesRun = newRun();
    seedSeries(appliance, caller, seriesRun);
    const seriesPath = `/api/v1/runs/${seriesRun}/metrics/loss/series?points=1000`;
    const seriesCheck = await fetch(appliance.url + seriesPath, { headers: { Authorization: `Bearer ${secret}` } });
    const chart = (await seriesCheck.json()) as { total: number; steps: number[]; values: Array<number | null> };
    if (chart.total !== SERIES_POINTS || chart.steps.length !== 1000) throw new Error(`series answered ${chart.total} points as ${chart.steps.length}`);
    if (chart.values[chart.steps.indexOf(SERIES_SPIKE_STEP)] !== 1000) throw new Error('series lost the spike');
    const seriesJob = { method: 'GET' as const, path: seriesPath, inFlight: 1, countField: 'steps' };
    await client.run({ ...seriesJob, bodies: ['', ''] });
    const series = (await client.run({ ...seriesJob, bodies: Array(SERIES_SAMPLES).fill('') })).times.map(rounded);
    const rawSeries = rawSeriesReadMs(appliance, seriesRun).map(rounded);

    const rawRate = median(raw);
    return {
      name: 'tracking',
      figures: [
        { label: 'log-batch ingest over HTTP', value: median(ingest), unit: 'pt/s', baseline: rawRate, target: '>= 300000 pt/s', samples: ingest },
        { label: 'log-batch ingest, share of raw inserts', value: Math.round((median(ingest) / rawRate) * 1000) / 10, unit: '%', target: '>= 50 %' },
        { label: 'baseline: raw better-sqlite3 inserts', value: rawRate, unit: 'pt/s', samples: raw },
        { label: `log-batch of ${WIDE_KEYS} keys at one step`, value: median(wide.ingest), unit: 'pt/s', baseline: median(wide.raw), samples: wide.ingest },
        { label: `log-batch of ${WIDE_KEYS} keys, share of raw inserts`, value: Math.round((median(wide.ingest) / median(wide.raw)) * 1000) / 10, unit: '%' },
        { label: 'baseline: raw inserts of the same rows', value: median(wide.raw), unit: 'pt/s', samples: wide.raw },
        { label: 'single log-metric calls, one connection', value: median(single), unit: 'call/s', baseline: median(bare), target: '>= 3000 call/s', samples: single },
        { label: 'baseline: bare node:http server, same client', value: median(bare), unit: 'call/s', samples: bare },
        { label: 'single log-metric calls by a project editor', value: median(byEditor), unit: 'call/s', baseline: median(bare), samples: byEditor },
        { label: `runs/search over ${SEARCH_RUNS} runs, 100 results`, value: median(search100), unit: 'ms', target: '<= 10 ms', samples: search100 },
        { label: `runs/search over ${SEARCH_RUNS} runs, 1000 results`, value: median(search1000), unit: 'ms', samples: search1000 },
        { label: `metric history of ${HISTORY_POINTS} points`, value: median(history), unit: 'ms', target: '<= 100 ms', samples: history },
        { label: `chart series of ${SERIES_POINTS} points, 1000 shown`, value: median(series), unit: 'ms', baseline: median(rawSeries), target: '<= 150 ms', samples: series },
        { label: 'chart series, share of the raw read\'s time', value: Math.round((median(series) / median(rawSeries)) * 1000) / 10, unit: '%' },
        { label: `baseline: raw read of the ${SERIES_POINTS} points`, value: median(rawSeries), unit: 'ms', samples: rawSeries },
      ],
    };
  } finally {
    await client.stop();
    await editorClient.stop();
    await appliance.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
