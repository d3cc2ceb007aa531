import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort, readRssMb } from './processes.ts';
import { median, type BenchResult } from './report.ts';

/**
 * Start-up time and idle memory of the appliance (`node src/main.ts`), against a bare Node process running a
 * minimal node:http server, spawned the same way with the same binary in the same run.
 *
 * Each round runs, in this order: the baseline; the appliance on a fresh data dir (cold: migrates, hashes the
 * first admin's password); the appliance again on that same dir (warm: already migrated, admin exists).
 * One round is a discarded warm-up (page cache, the bench's own fetch), then RUNS rounds are measured.
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
/** RSS is read this long after the first /health answer, once the follow-up requests are done. */
const IDLE_AFTER_MS = 1_000;
const STOP_GRACE_MS = 5_000;
const KILL_WAIT_MS = 2_000;

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

const BASELINE_SERVER = [
  "const http = require('node:http');",
  'http.createServer((req, res) => {',
  "  res.writeHead(200, { 'content-type': 'application/json' });",
  "  res.end('{\"status\":\"ok\"}');",
  "}).listen(Number(process.env.BENCH_PORT), '127.0.0.1');",
].join('\n');

interface ServerSpec {
  what: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The appliance's answers are checked (JSON shapes, the admin's identity); the baseline answers anything with 200. */
  checkAnswers: boolean;
}

interface Measurement {
  firstAnswerMs: number;
  rssMb: number;
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

function baselineSpec(): ServerSpec {
  return { what: 'baseline node:http server', args: ['-e', BASELINE_SERVER], env: childEnv({}), checkAnswers: false };
}

function applianceSpec(dataDir: string): ServerSpec {
  return {
    what: 'appliance (node src/main.ts)',
    args: ['src/main.ts'],
    env: childEnv({
      TRAINYARD_DATA: dataDir,
      TRAINYARD_HOST: HOST,
      TRAINYARD_ADMIN_PASSWORD: ADMIN_PASSWORD,
      TRAINYARD_LOG_LEVEL: 'warn',
    }),
    checkAnswers: true,
  };
}

/** A port nobody listens on right now (the kernel picks it; released again before the child binds it). */

interface Running {
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
  hasExited(): boolean;
  output(): string;
}

function start(spec: ServerSpec, port: number): Running {
  installExitHook();
  const child = spawn(process.execPath, spec.args, {
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

async function request(url: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: response.status, body: await response.text() };
}

/** What an idle appliance has usually seen: the login page, a health probe, one authenticated API call. */
async function exercise(spec: ServerSpec, base: string): Promise<void> {
  const login = await request(`${base}/login`);
  const health = await request(`${base}/health`);
  const whoami = await request(`${base}/api/v1/whoami`, {
    headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` },
  });
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

/** VmRSS of a live process, in MB (kB / 1024), from /proc. */

/** Spawn -> first 200 from /health -> a few requests -> RSS ~1 s after the first answer -> stop. */
async function measure(spec: ServerSpec): Promise<Measurement> {
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  const startedAt = performance.now();
  const running = start(spec, port);
  try {
    const answeredAt = await waitForHealth(spec, running, `${base}/health`, startedAt);
    await exercise(spec, base);
    const idleFor = answeredAt + IDLE_AFTER_MS - performance.now();
    if (idleFor > 0) await sleep(idleFor);
    if (running.hasExited()) throw new Error(describeExit(spec, running));
    const rssMb = readRssMb(running.pid);
    return { firstAnswerMs: answeredAt - startedAt, rssMb };
  } finally {
    await stop(running);
  }
}

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

export async function benchStartup(): Promise<BenchResult> {
  if (process.platform !== 'linux') throw new Error('the startup bench reads /proc/<pid>/status: Linux only');
  const baseline: Measurement[] = [];
  const cold: Measurement[] = [];
  const warm: Measurement[] = [];

  for (let round = 0; round < WARMUP_ROUNDS + RUNS; round++) {
    const measured = round >= WARMUP_ROUNDS;
    const bare = await measure(baselineSpec());
    const dataDir = tempDataDir();
    try {
      const first = await measure(applianceSpec(dataDir));
      if (!existsSync(join(dataDir, 'trainyard.db'))) throw new Error(`the cold start left no database in ${dataDir}`);
      const second = await measure(applianceSpec(dataDir));
      if (measured) {
        baseline.push(bare);
        cold.push(first);
        warm.push(second);
      }
    } finally {
      removeDir(dataDir);
    }
  }

  const ms = (list: Measurement[]) => list.map((m) => Math.round(m.firstAnswerMs));
  const mb = (list: Measurement[]) => list.map((m) => Math.round(m.rssMb * 10) / 10);
  const baseStart = median(ms(baseline));
  const baseRss = median(mb(baseline));
  return {
    name: 'startup',
    figures: [
      { label: 'cold start, first /health answer', value: median(ms(cold)), unit: 'ms', baseline: baseStart, target: '< 1000 ms', samples: ms(cold) },
      { label: 'warm start, first /health answer', value: median(ms(warm)), unit: 'ms', baseline: baseStart, target: '< 1000 ms', samples: ms(warm) },
      { label: 'idle RSS after cold start', value: median(mb(cold)), unit: 'MB', baseline: baseRss, target: '< 120 MB', samples: mb(cold) },
      { label: 'idle RSS after warm start', value: median(mb(warm)), unit: 'MB', baseline: baseRss, target: '< 120 MB', samples: mb(warm) },
      { label: 'baseline: bare node:http, first answer', value: baseStart, unit: 'ms', samples: ms(baseline) },
      { label: 'baseline: bare node:http, idle RSS', value: baseRss, unit: 'MB', samples: mb(baseline) },
    ],
  };
}
