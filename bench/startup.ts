import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort, readRssMb } from './processes.ts';
import { median, type BenchResult, type Figure } from './report.ts';

/**
 * Start-up time and idle memory of the appliance, run from source (`node src/main.ts`) and as the shipped binary
 * (`dist/trainyard`, rebuilt first by `npm run build` when the source changed), against a bare Node process running
 * a minimal node:http server, spawned the same way with the same Node in the same run.
 *
 * Empty database: each round runs, in this order, the baseline, then for each way of running the appliance a start
 * on a fresh data dir (cold: migrates, hashes the first admin's password) and one on that same dir (warm: migrated,
 * admin exists). One round is a discarded warm-up (page cache, the bench's own fetch), then RUNS rounds are measured.
 * RSS is read 1 s after the last request; in the last round, the warm start's also 20 s after (settled: an idle
 * appliance gives back what a burst of work grew, see src/main.ts).
 *
 * 10,000 runs: each way of running the appliance logs 10,000 runs into a fresh data dir over the MLflow API
 * (runs/create, then one runs/log-batch of params, tags and metric steps each), as training scripts would; its RSS
 * 1 s and 20 s after that are two figures. It is then restarted on that dir LOADED_RUNS times, each time answering a
 * few runs/search calls and the experiment's runs page before its idle RSS is read (the last time also settled).
 */

const RUNS = 5;
const WARMUP_ROUNDS = 1;
const HOST = '127.0.0.1';
const ADMIN_PASSWORD = 'bench-admin-password';
/** Gives up on a server that has not answered /health by then. */
const START_DEADLINE_MS = 20_000;
const POLL_INTERVAL_MS = 5;
const POLL_ATTEMPT_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** RSS is read this long after the last request was answered. */
const IDLE_AFTER_MS = 1_000;
/**
 * After a burst of work RSS is read again this long after the last request: V8's memory reducer gives back what the
 * burst grew (young generation, freed old-space pages) once the process has been quiet for ~8 s.
 */
const SETTLED_AFTER_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const KILL_WAIT_MS = 2_000;
const LOADED_RUN_COUNT = 10_000;
const LOADED_RUNS = 3;
const INGEST_IN_FLIGHT = 8;
const METRIC_STEPS = 10;
const MLFLOW = '/api/2.0/mlflow';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const BINARY = join(REPO_ROOT, 'dist/trainyard');

const BASELINE_SERVER = [
  "const http = require('node:http');",
  'http.createServer((req, res) => {',
  "  res.writeHead(200, { 'content-type': 'application/json' });",
  "  res.end('{\"status\":\"ok\"}');",
  "}).listen(Number(process.env.BENCH_PORT), '127.0.0.1');",
].join('\n');

interface ServerSpec {
  what: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The appliance's answers are checked (JSON shapes, the admin's identity); the baseline answers anything with 200. */
  checkAnswers: boolean;
}

interface Measurement {
  firstAnswerMs: number;
  rssMb: number;
  /** Read SETTLED_AFTER_MS after the last request, where asked for. */
  settledRssMb?: number;
}

// Every child and temp dir still alive, so that even an exit on an uncaught error or a signal leaves none behind.
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

function childEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // Our settings only: a TRAINYARD_CONFIG or TRAINYARD_* from the caller's shell must not leak in.
    if (!key.startsWith('TRAINYARD_')) env[key] = value;
  }
  return { ...env, ...extra };
}

/** The two ways the appliance runs: from a checkout, and as the binary `npm run build` makes. */
interface Way {
  name: string;
  command: string;
  args: string[];
}

const WAYS: Way[] = [
  { name: 'source', command: process.execPath, args: ['src/main.ts'] },
  { name: 'binary', command: BINARY, args: [] },
];

function baselineSpec(): ServerSpec {
  return { what: 'baseline node:http server', command: process.execPath, args: ['-e', BASELINE_SERVER], env: childEnv({}), checkAnswers: false };
}

function applianceSpec(way: Way, dataDir: string): ServerSpec {
  return {
    what: `appliance (${way.name}: ${[way.command, ...way.args].join(' ')})`,
    command: way.command,
    args: way.args,
    env: childEnv({
      TRAINYARD_DATA: dataDir,
      TRAINYARD_HOST: HOST,
      TRAINYARD_ADMIN_PASSWORD: ADMIN_PASSWORD,
      TRAINYARD_LOG_LEVEL: 'warn',
    }),
    checkAnswers: true,
  };
}

interface Running {
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
  hasExited(): boolean;
  output(): string;
}

function start(spec: ServerSpec, port: number): Running {
  installExitHook();
  const child = spawn(spec.command, spec.args, {
    cwd: REPO_ROOT,
    env: { ...spec.env, TRAINYARD_PORT: String(port), BENCH_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let done = false;
  const exited = new Promise<void>((resolve) => {
    const finish = () => {
      done = true;
      liveChildren.delete(child);
      resolve();
    };
    child.once('exit', finish);
    child.once('error', (error) => {
      keep(Buffer.from(`spawn failed: ${error.message}\n`));
      finish();
    });
  });
  if (child.pid === undefined) {
    // spawn failed synchronously-ish: the 'error' event follows; report it through the first wait.
    return { child, pid: -1, exited, hasExited: () => done, output: () => output };
  }
  return { child, pid: child.pid, exited, hasExited: () => done, output: () => output };
}

async function waitOrTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM (the appliance shuts down gracefully), then SIGKILL if it is still there after a grace period. */
async function stop(running: Running): Promise<void> {
  if (running.hasExited()) return;
  running.child.kill('SIGTERM');
  if (await waitOrTimeout(running.exited, STOP_GRACE_MS)) return;
  running.child.kill('SIGKILL');
  if (!(await waitOrTimeout(running.exited, KILL_WAIT_MS))) {
    throw new Error(`pid ${running.pid} did not exit even after SIGKILL`);
  }
}

function describeExit(spec: ServerSpec, running: Running): string {
  const { exitCode, signalCode } = running.child;
  const tail = running.output().trim().split('\n').slice(-5).join('\n  ');
  return `${spec.what} exited (code ${exitCode}, signal ${signalCode}) before answering${tail ? `:\n  ${tail}` : ''}`;
}

/** Polls /health until the first 200; returns when it came. Never waits on a single attempt for long. */
async function waitForHealth(spec: ServerSpec, running: Running, url: string, startedAt: number): Promise<number> {
  const maxAttempts = Math.ceil(START_DEADLINE_MS / POLL_INTERVAL_MS);
  let lastError = 'no attempt made';
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (running.hasExited()) throw new Error(describeExit(spec, running));
    if (performance.now() - startedAt > START_DEADLINE_MS) break;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(POLL_ATTEMPT_TIMEOUT_MS) });
      const answeredAt = performance.now();
      const body = await response.text();
      if (response.status === 200) {
        if (spec.checkAnswers && (JSON.parse(body) as { status?: unknown }).status !== 'ok') {
          throw new Error(`${spec.what}: /health answered ${body}`);
        }
        return answeredAt;
      }
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      if (error instanceof Error && error.message.includes('/health answered')) throw error;
      lastError = error instanceof Error ? `${error.message}${error.cause ? ` (${String(error.cause)})` : ''}` : String(error);
    }
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`${spec.what} gave no 200 on ${url} within ${START_DEADLINE_MS} ms (last: ${lastError})`);
}

const ADMIN = { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` };

async function request(url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: response.status, body: await response.text() };
}

/** An MLflow API call as the admin, answered with 200 and JSON, or an error. */
async function mlflow<T>(spec: ServerSpec, base: string, path: string, body: unknown): Promise<T> {
  const headers = { ...ADMIN, 'content-type': 'application/json' };
  const answer = await request(`${base}${MLFLOW}/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  if (answer.status !== 200) throw new Error(`${spec.what}: POST ${MLFLOW}/${path}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
  return JSON.parse(answer.body) as T;
}

/** What an idle appliance has usually seen: the login page, a health probe, one authenticated API call. */
async function exercise(spec: ServerSpec, base: string): Promise<void> {
  const login = await request(`${base}/login`);
  const health = await request(`${base}/health`);
  const whoami = await request(`${base}/api/v1/whoami`, { headers: ADMIN });
  if (!spec.checkAnswers) return;
  const problems: string[] = [];
  if (login.status !== 200) problems.push(`GET /login: HTTP ${login.status}`);
  if (health.status !== 200) problems.push(`GET /health: HTTP ${health.status}`);
  if (whoami.status !== 200) problems.push(`GET /api/v1/whoami: HTTP ${whoami.status} ${whoami.body.slice(0, 200)}`);
  else if ((JSON.parse(whoami.body) as { user?: { username?: unknown } }).user?.username !== 'admin') {
    problems.push(`GET /api/v1/whoami: not the admin: ${whoami.body.slice(0, 200)}`);
  }
  if (problems.length > 0) throw new Error(`${spec.what} answered wrongly: ${problems.join('; ')}`);
}

/** One run's params, tags and metric steps, varied by its index so that searches match a share of the runs. */
function runBatch(runId: string, index: number) {
  const metrics = ['acc', 'loss', 'f1'].flatMap((key, k) =>
    Array.from({ length: METRIC_STEPS }, (_, step) => ({
      key,
      value: ((index * 7919 + k * 104729 + step * 15485863) % 10007) / 10007,
      timestamp: 1_700_000_000_000 + index * 1000 + step,
      step,
    })),
  );
  const params = [
    { key: 'opt', value: index % 3 === 0 ? 'adam' : 'sgd' },
    { key: 'lr', value: String(10 ** -(index % 5)) },
    { key: 'batch_size', value: String(2 ** (4 + (index % 4))) },
    { key: 'seed', value: String(index) },
  ];
  const tags = [
    { key: 'team', value: `team-${index % 7}` },
    { key: 'mlflow.source.name', value: 'train.py' },
  ];
  return { run_id: runId, metrics, params, tags };
}

/** Logs LOADED_RUN_COUNT runs into a new experiment, a few at a time, as training scripts do; answers its id. */
async function logRuns(spec: ServerSpec, base: string): Promise<string> {
  const { experiment_id: experimentId } = await mlflow<{ experiment_id: string }>(spec, base, 'experiments/create', { name: 'loaded' });
  let next = 0;
  const logger = async () => {
    while (next < LOADED_RUN_COUNT) {
      const index = next++;
      const created = { experiment_id: experimentId, run_name: `run-${index}`, start_time: 1_700_000_000_000 + index * 1000 };
      const { run } = await mlflow<{ run: { info: { run_id: string } } }>(spec, base, 'runs/create', created);
      await mlflow(spec, base, 'runs/log-batch', runBatch(run.info.run_id, index));
    }
  };
  await Promise.all(Array.from({ length: INGEST_IN_FLIGHT }, logger));
  return experimentId;
}

/** After a restart with the runs loaded: the idle calls, a few runs/search calls, and the experiment's runs page. */
async function browseRuns(spec: ServerSpec, base: string, experimentId: string): Promise<void> {
  await exercise(spec, base);
  const searches = [
    { filter: "metrics.acc > 0.5 and params.opt = 'adam'", order_by: ['metrics.acc DESC'], max_results: 100 },
    { filter: "tags.team = 'team-3'", order_by: ['attributes.start_time DESC'], max_results: 1000 },
    { filter: '', order_by: ['metrics.loss ASC'], max_results: 1000 },
  ];
  for (const search of searches) {
    const { runs } = await mlflow<{ runs?: unknown[] }>(spec, base, 'runs/search', { experiment_ids: [experimentId], ...search });
    if (!runs || runs.length === 0) throw new Error(`${spec.what}: runs/search ${JSON.stringify(search)} found no runs`);
  }
  const page = await request(`${base}/experiments/${experimentId}`, { headers: ADMIN });
  if (page.status !== 200 || !page.body.includes('run-')) {
    throw new Error(`${spec.what}: GET /experiments/${experimentId}: HTTP ${page.status}, no runs listed`);
  }
}

/** Spawn -> first 200 from /health -> `visit` -> RSS once it has been idle a while (and again once settled) -> stop. */
async function measure<T>(spec: ServerSpec, visit: (base: string) => Promise<T>, settle = false): Promise<Measurement & { visited: T }> {
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  const startedAt = performance.now();
  const running = start(spec, port);
  try {
    const answeredAt = await waitForHealth(spec, running, `${base}/health`, startedAt);
    const visited = await visit(base);
    await sleep(IDLE_AFTER_MS);
    if (running.hasExited()) throw new Error(describeExit(spec, running));
    const rssMb = readRssMb(running.pid);
    if (!settle) return { firstAnswerMs: answeredAt - startedAt, rssMb, visited };
    await sleep(SETTLED_AFTER_MS - IDLE_AFTER_MS);
    if (running.hasExited()) throw new Error(describeExit(spec, running));
    return { firstAnswerMs: answeredAt - startedAt, rssMb, settledRssMb: readRssMb(running.pid), visited };
  } finally {
    await stop(running);
  }
}

const measureIdle = (spec: ServerSpec, settle = false) => measure(spec, (base) => exercise(spec, base), settle);

function tempDataDir(): string {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'trainyard-bench-'));
  liveDirs.add(dir);
  return dir;
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** `npm run build`: quick when the binary is already that of the source. */
function buildBinary(): void {
  const build = spawnSync(process.execPath, ['scripts/build-binary.ts'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stderr}${build.stdout}`);
}

/**
 * Idle RSS right after logging the runs and once settled, then after each of LOADED_RUNS restarts that browse them
 * (the last one also settled).
 */
async function measureLoaded(way: Way): Promise<{ logged: Measurement; restarts: Measurement[] }> {
  const dataDir = tempDataDir();
  try {
    const spec = applianceSpec(way, dataDir);
    const logged = await measure(spec, (base) => logRuns(spec, base), true);
    const restarts: Measurement[] = [];
    for (let restart = 1; restart <= LOADED_RUNS; restart++) {
      restarts.push(await measure(spec, (base) => browseRuns(spec, base, logged.visited), restart === LOADED_RUNS));
    }
    return { logged, restarts };
  } finally {
    removeDir(dataDir);
  }
}

const ms = (list: Measurement[]) => list.map((m) => Math.round(m.firstAnswerMs));
const tenths = (value: number) => Math.round(value * 10) / 10;
const mb = (list: number[]) => list.map(tenths);

export async function benchStartup(): Promise<BenchResult> {
  if (process.platform !== 'linux') throw new Error('the startup bench reads /proc/<pid>/status: Linux only');
  buildBinary();
  const baseline: Measurement[] = [];
  const cold = new Map<Way, Measurement[]>(WAYS.map((way) => [way, []]));
  const warm = new Map<Way, Measurement[]>(WAYS.map((way) => [way, []]));

  for (let round = 0; round < WARMUP_ROUNDS + RUNS; round++) {
    const measured = round >= WARMUP_ROUNDS;
    const last = round === WARMUP_ROUNDS + RUNS - 1;
    const bare = await measureIdle(baselineSpec());
    if (measured) baseline.push(bare);
    for (const way of WAYS) {
      const dataDir = tempDataDir();
      try {
        const first = await measureIdle(applianceSpec(way, dataDir));
        if (!existsSync(join(dataDir, 'trainyard.db'))) throw new Error(`the cold start left no database in ${dataDir}`);
        const second = await measureIdle(applianceSpec(way, dataDir), last);
        if (measured) {
          cold.get(way)!.push(first);
          warm.get(way)!.push(second);
        }
      } finally {
        removeDir(dataDir);
      }
    }
  }

  const baseStart = median(ms(baseline));
  const baseRss = median(mb(baseline.map((m) => m.rssMb)));
  const figures: Figure[] = [];
  for (const way of WAYS) {
    const [coldRuns, warmRuns] = [cold.get(way)!, warm.get(way)!];
    const { logged, restarts } = await measureLoaded(way);
    const rss = (list: Measurement[]) => mb(list.map((m) => m.rssMb));
    const settled = (measurement: Measurement) => tenths(measurement.settledRssMb!);
    figures.push(
      { label: `${way.name}: cold start, first /health answer`, value: median(ms(coldRuns)), unit: 'ms', baseline: baseStart, target: '< 1000 ms', samples: ms(coldRuns) },
      { label: `${way.name}: warm start, first /health answer`, value: median(ms(warmRuns)), unit: 'ms', baseline: baseStart, target: '< 1000 ms', samples: ms(warmRuns) },
      { label: `${way.name}: idle RSS after cold start`, value: median(rss(coldRuns)), unit: 'MB', baseline: baseRss, target: '< 120 MB', samples: rss(coldRuns) },
      { label: `${way.name}: idle RSS after warm start`, value: median(rss(warmRuns)), unit: 'MB', baseline: baseRss, target: '< 120 MB', samples: rss(warmRuns) },
      { label: `${way.name}: idle RSS 20 s after a warm start`, value: settled(warmRuns.at(-1)!), unit: 'MB', baseline: baseRss, target: '< 120 MB' },
      { label: `${way.name}: RSS 1 s after logging 10,000 runs`, value: tenths(logged.rssMb), unit: 'MB', baseline: baseRss, target: '<= 150 MB' },
      { label: `${way.name}: idle RSS 20 s after logging 10,000 runs`, value: settled(logged), unit: 'MB', baseline: baseRss, target: '<= 150 MB' },
      { label: `${way.name}: idle RSS with 10,000 runs, restarted`, value: median(rss(restarts)), unit: 'MB', baseline: baseRss, target: '<= 150 MB', samples: rss(restarts) },
      { label: `${way.name}: idle RSS with 10,000 runs, 20 s after a restart`, value: settled(restarts.at(-1)!), unit: 'MB', baseline: baseRss, target: '<= 150 MB' },
    );
  }
  figures.push(
    { label: 'baseline: bare node:http, first answer', value: baseStart, unit: 'ms', samples: ms(baseline) },
    { label: 'baseline: bare node:http, idle RSS', value: baseRss, unit: 'MB', samples: mb(baseline.map((m) => m.rssMb)) },
  );
  return { name: 'startup', figures };
}
