import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createApp } from '../src/app.ts';
import { bootstrapAuth } from '../src/auth/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import { applyMigrations } from '../src/db/migrate.ts';
import { insertExperiment } from '../src/tracking/experiment-queries.ts';
import { freePort, readRssMb } from './processes.ts';
import { median, type BenchResult } from './report.ts';

/**
 * Artifact upload and download of one 256 MB file through the appliance's MLflow artifact proxy (a separate
 * `node src/main.ts`, over a socket), against `cp` of the same file on the same disk in the same run, and against
 * a bare node:http server that pipes the same bytes to and from disk (what HTTP itself costs on this machine); the
 * same file as a multipart upload the way MLflow's client sends a large one; and the server's resident memory while
 * it streams, which must not grow with the file.
 */

const FILE_MB = 256;
/** MLflow's default MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE. */
const PART_MB = 10;
/** The client's thread pool: two threads per CPU, at most 20 (mlflow/store/artifact/artifact_repo.py). */
const PART_WORKERS = Math.min(availableParallelism() * 2, 20);
const ROUNDS = 3;
const WARM_UP_MB = 32;
const HOST = '127.0.0.1';
const ADMIN_PASSWORD = 'bench-admin-password';
const EXPERIMENT_ID = 1;
const RUN_PATH = `${EXPERIMENT_ID}/${'b'.repeat(32)}/artifacts`;
const RSS_SAMPLE_MS = 5;
const START_DEADLINE_MS = 20_000;
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const execFileAsync = promisify(execFile);

/** The least an HTTP server can do: pipe the body to a file, or a file to the response, with Node's own streams. */
const BARE_SERVER = [
  "const { createReadStream, createWriteStream } = require('node:fs');",
  "const { pipeline } = require('node:stream/promises');",
  "const { join } = require('node:path');",
  'require("node:http").createServer(async (req, res) => {',
  "  if (req.url === '/health') return res.end('ok');",
  '  const file = join(process.env.BENCH_DIR, req.url.split("/").pop());',
  "  if (req.method === 'PUT') { await pipeline(req, createWriteStream(file)); res.end('{}'); }",
  '  else await pipeline(createReadStream(file), res);',
  "}).listen(Number(process.env.BENCH_PORT), '127.0.0.1');",
].join('\n');


/** The highest RSS of `pid` while `work` runs, sampled every few milliseconds. */
async function peakRssDuring<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peakMb = readRssMb(pid);
  const sampler = setInterval(() => (peakMb = Math.max(peakMb, readRssMb(pid))), RSS_SAMPLE_MS);
  try {
    const result = await work();
    return { result, peakMb: Math.max(peakMb, readRssMb(pid)) };
  } finally {
    clearInterval(sampler);
  }
}


/**
 * A data dir with the first admin, an API token (what MLFLOW_TRACKING_TOKEN carries) and experiment 1 in the
 * default project, written before the server starts. Returns the Authorization header.
 */
async function prepareDataDir(dataDir: string): Promise<string> {
  const app = createApp(loadConfig({ dataDir, logLevel: 'silent' }, {}));
  try {
    applyMigrations(app.db);
    await bootstrapAuth({ ...app, adminUsername: 'admin', adminPassword: ADMIN_PASSWORD });
    const project = app.projects.ensureDefault();
    insertExperiment(app.db, { id: EXPERIMENT_ID, projectId: project.id, name: 'bench', artifactLocation: `mlflow-artifacts:/${EXPERIMENT_ID}`, creationTime: 0, lastUpdateTime: 0 });
    const { secret } = app.tokens.create(app.users.get('admin'), { name: 'bench' }, { actor: 'bench' });
    return `Bearer ${secret}`;
  } finally {
    app.close();
  }
}

/** 256 MB of incompressible bytes: one random MiB, each copy stamped with its index. */
async function writeSourceFile(path: string): Promise<void> {
  const block = randomBytes(1024 * 1024);
  async function* blocks() {
    for (let index = 0; index < FILE_MB; index++) {
      block.writeUInt32LE(index, 0);
      yield block;
    }
  }
  await pipeline(blocks(), createWriteStream(path));
}

/** Spawns `args` (the appliance, or the bare server) and waits for its first answer. */
async function startServer(args: string[], env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const deadline = performance.now() + START_DEADLINE_MS;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with code ${child.exitCode} before answering`);
    const answered = await fetch(`http://${HOST}:${port}/health`).then(() => true, () => false);
    if (answered) return child;
    await sleep(20);
  }
  child.kill('SIGKILL');
  throw new Error(`${args.join(' ')} did not answer within ${START_DEADLINE_MS} ms`);
}

const startAppliance = (dataDir: string, port: number) =>
  startServer(['src/main.ts'], { TRAINYARD_DATA: dataDir, TRAINYARD_HOST: HOST, TRAINYARD_PORT: String(port), TRAINYARD_LOG_LEVEL: 'warn', TRAINYARD_CONFIG: '' }, port);

const startBareServer = (dir: string, port: number) => startServer(['-e', BARE_SERVER], { BENCH_DIR: dir, BENCH_PORT: String(port) }, port);

/** A file, or the byte range [start, end) of one, sent as a request body of known length. */
interface Upload {
  file: string;
  start?: number;
  end?: number;
}

function send(url: string, method: 'PUT' | 'GET', headers: Record<string, string>, upload?: Upload): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, headers }, resolve).once('error', reject);
    if (!upload) return void outgoing.end();
    const { file, start = 0, end = statSync(file).size } = upload;
    outgoing.setHeader('Content-Type', 'application/octet-stream');
    outgoing.setHeader('Content-Length', end - start);
    if (end === start) return void outgoing.end();
    pipeline(createReadStream(file, { start, end: end - 1 }), outgoing).catch(reject);
  });
}

const artifactUrl = (port: number, path: string) => `http://${HOST}:${port}/api/2.0/mlflow-artifacts/artifacts/${path}`;

async function upload(port: number, authorization: string, path: string, source: string): Promise<void> {
  const response = await send(artifactUrl(port, path), 'PUT', { Authorization: authorization }, { file: source });
  const body = (await response.toArray()).join('');
  if (response.statusCode !== 200) throw new Error(`PUT ${path}: HTTP ${response.statusCode} ${body.slice(0, 200)}`);
}

async function download(port: number, authorization: string, path: string, target: string): Promise<void> {
  const response = await send(artifactUrl(port, path), 'GET', { Authorization: authorization });
  if (response.statusCode !== 200) throw new Error(`GET ${path}: HTTP ${response.statusCode}`);
  await pipeline(response, createWriteStream(target));
}

async function postJson<T>(port: number, authorization: string, path: string, body: unknown): Promise<T> {
  const response = await fetch(`http://${HOST}:${port}${path}`, {
    method: 'POST',
    headers: { Authorization: authorization, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${path}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

/**
 * `log_artifact` with MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true: create, the parts PUT by a pool of workers to their
 * signed URLs without the credential, complete. The artifact keeps the local file's name, in `folder`.
 */
async function multipartUpload(port: number, authorization: string, folder: string, source: string): Promise<void> {
  const size = statSync(source).size;
  const partBytes = PART_MB * 1024 * 1024;
  const mpu = '/api/2.0/mlflow-artifacts/mpu';
  type Created = { upload_id: string; credentials: Array<{ url: string; part_number: number; headers: Record<string, string> }> };
  const created = await postJson<Created>(port, authorization, `${mpu}/create/${folder}`, { path: source, num_parts: Math.ceil(size / partBytes) });
  const waiting = [...created.credentials];
  const parts: Array<{ part_number: number; etag: string | undefined; url: string }> = [];
  const worker = async () => {
    for (let credential = waiting.shift(); credential; credential = waiting.shift()) {
      const start = (credential.part_number - 1) * partBytes;
      const response = await send(credential.url, 'PUT', credential.headers, { file: source, start, end: Math.min(size, start + partBytes) });
      await response.toArray();
      if (response.statusCode !== 200) throw new Error(`PUT part ${credential.part_number}: HTTP ${response.statusCode}`);
      parts.push({ part_number: credential.part_number, etag: response.headers.etag, url: credential.url });
    }
  };
  await Promise.all(Array.from({ length: PART_WORKERS }, worker));
  parts.sort((a, b) => a.part_number - b.part_number);
  await postJson<object>(port, authorization, `${mpu}/complete/${folder}`, { path: source, upload_id: created.upload_id, parts });
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const startedAt = performance.now();
  await work();
  return performance.now() - startedAt;
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export async function benchArtifacts(): Promise<BenchResult> {
  if (process.platform !== 'linux') throw new Error('the artifacts bench reads /proc/<pid>/status: Linux only');
  const work = mkdtempSync(join(tmpdir(), 'trainyard-bench-artifacts-'));
  process.once('exit', () => rmSync(work, { recursive: true, force: true }));
  const dataDir = join(work, 'data');
  const source = join(work, 'source.bin');
  const copy = join(work, 'copy.bin');
  const downloaded = join(work, 'downloaded.bin');
  const authorization = await prepareDataDir(dataDir);
  await writeSourceFile(source);
  const port = await freePort();
  const server = await startAppliance(dataDir, port);
  const pid = server.pid!;
  const barePort = await freePort();
  const bareDir = join(work, 'bare');
  mkdirSync(bareDir);
  const bare = await startBareServer(bareDir, barePort);

  const samples = {
    ...{ cpUp: [] as number[], up: [] as number[], bareUp: [] as number[] },
    ...{ cpDown: [] as number[], down: [] as number[], bareDown: [] as number[] },
    ...{ upGrowth: [] as number[], downGrowth: [] as number[], idle: [] as number[] },
    ...{ multipart: [] as number[], multipartGrowth: [] as number[] },
  };
  try {
    // Warm-up: the first transfers load code and grow the heap and buffer pools to their working size once.
    const warmUp = join(work, 'warm-up.bin');
    await pipeline(Array.from({ length: WARM_UP_MB }, () => randomBytes(1024 * 1024)), createWriteStream(warmUp));
    await upload(port, authorization, `${RUN_PATH}/warm-up.bin`, warmUp);
    await download(port, authorization, `${RUN_PATH}/warm-up.bin`, join(work, 'warm-up-back.bin'));

    for (let round = 0; round < ROUNDS; round++) {
      const stored = join(dataDir, 'artifacts', RUN_PATH, `model-${round}.bin`);
      samples.cpUp.push(await timed(() => execFileAsync('cp', [source, copy])));
      rmSync(copy);
      const before = readRssMb(pid);
      samples.idle.push(before);
      const up = await peakRssDuring(pid, () => timed(() => upload(port, authorization, `${RUN_PATH}/model-${round}.bin`, source)));
      samples.up.push(up.result);
      samples.upGrowth.push(up.peakMb - before);

      samples.cpDown.push(await timed(() => execFileAsync('cp', [stored, copy])));
      rmSync(copy);
      const beforeDownload = readRssMb(pid);
      const down = await peakRssDuring(pid, () => timed(() => download(port, authorization, `${RUN_PATH}/model-${round}.bin`, downloaded)));
      samples.down.push(down.result);
      samples.downGrowth.push(down.peakMb - beforeDownload);

      if (round === 0 && (await sha256(downloaded)) !== (await sha256(source))) throw new Error('the downloaded file differs from the uploaded one');
      rmSync(downloaded);
      rmSync(stored);

      const beforeMultipart = readRssMb(pid);
      const folder = `${RUN_PATH}/multipart-${round}`;
      const multipart = await peakRssDuring(pid, () => timed(() => multipartUpload(port, authorization, folder, source)));
      samples.multipart.push(multipart.result);
      samples.multipartGrowth.push(multipart.peakMb - beforeMultipart);
      const joined = join(dataDir, 'artifacts', folder, 'source.bin');
      if (round === 0 && (await sha256(joined)) !== (await sha256(source))) throw new Error('the file joined from parts differs from the source');
      rmSync(joined);

      samples.bareUp.push(await timed(() => upload(barePort, authorization, 'bare.bin', source)));
      samples.bareDown.push(await timed(() => download(barePort, authorization, 'bare.bin', downloaded)));
      rmSync(downloaded);
      rmSync(join(bareDir, 'bare.bin'));
    }
  } finally {
    server.kill('SIGTERM');
    bare.kill('SIGTERM');
  }

  const mbPerSecond = (ms: number) => FILE_MB / (ms / 1000);
  return {
    name: 'artifacts',
    figures: [
      { label: `upload ${FILE_MB} MB (PUT, vs cp)`, value: median(samples.up), unit: 'ms', baseline: median(samples.cpUp), samples: samples.up },
      { label: `download ${FILE_MB} MB (GET, vs cp)`, value: median(samples.down), unit: 'ms', baseline: median(samples.cpDown), samples: samples.down },
      { label: `multipart upload ${FILE_MB} MB (${Math.ceil(FILE_MB / PART_MB)} parts, ${PART_WORKERS} at a time, vs cp)`, value: median(samples.multipart), unit: 'ms', baseline: median(samples.cpUp), samples: samples.multipart },
      { label: 'upload (PUT, vs a bare node:http server)', value: median(samples.up), unit: 'ms', baseline: median(samples.bareUp) },
      { label: 'download (GET, vs a bare node:http server)', value: median(samples.down), unit: 'ms', baseline: median(samples.bareDown) },
      { label: 'upload throughput', value: mbPerSecond(median(samples.up)), unit: 'MB/s' },
      { label: 'download throughput', value: mbPerSecond(median(samples.down)), unit: 'MB/s' },
      { label: 'server RSS before the upload', value: median(samples.idle), unit: 'MB', samples: samples.idle },
      { label: `server RSS growth during a ${FILE_MB} MB upload`, value: Math.max(...samples.upGrowth), unit: 'MB', target: '< 64 MB', samples: samples.upGrowth },
      { label: `server RSS growth during a ${FILE_MB} MB download`, value: Math.max(...samples.downGrowth), unit: 'MB', target: '< 64 MB', samples: samples.downGrowth },
      { label: `server RSS growth during a ${FILE_MB} MB multipart upload`, value: Math.max(...samples.multipartGrowth), unit: 'MB', target: '< 64 MB', samples: samples.multipartGrowth },
    ],
  };
}
