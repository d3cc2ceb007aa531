import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { serve } from '@hono/node-server';
import { createApp } from '../src/app.ts';
import { bootstrapAuth } from '../src/auth/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import { applyMigrations } from '../src/db/migrate.ts';
import { createLog } from '../src/lib/log.ts';
import { servingRoutes } from '../src/server/routes/serving-routes.ts';
import { createServer } from '../src/server/server.ts';
import { insertDeployment } from '../src/serving/deployment-queries.ts';
import { createServingMetrics } from '../src/serving/serving-metrics.ts';
import type { ServingTarget } from '../src/serving/serving-target.ts';
import { freePort, readRssMb } from './processes.ts';
import { median, type BenchResult, type Figure } from './report.ts';

/**
 * What the serving proxy adds to a call. A minimal model server (node:http answering a small JSON, in its own
 * process) is called by a load generator (its own process, keep-alive, N calls in flight) directly and through the
 * appliance's /serve/<name>/ route, in the same run, rounds interleaved in a rotating order, at concurrencies 1, 8
 * and 64. The appliance runs in this process with its whole HTTP stack and logs each call at info level (into a sink),
 * and the caller is a project member with an API token, so that a call pays for what it pays for in production:
 * the credential, the project check, the access log line. The same calls to a public deployment (no credential)
 * show what the proxy costs without the checks, and to a deployment that samples every call (both bodies copied and
 * kept in the database) what sampling costs; a bare node:http pipe proxy in its own process (no credential, no
 * header rules) shows what any Node proxy costs on this machine.
 * Then one 1 GB response streams through the proxy and through the bare one, against the same download direct, while
 * each proxy's resident memory is sampled: it must not grow with the body. A first stream grows a process to the size
 * its garbage collector settles at under streaming (the bare proxy grows alike); a second 1 GB stream through the
 * appliance then shows what a body itself costs.
 */

const HOST = '127.0.0.1';
const CONCURRENCIES = [1, 8, 64];
const ROUNDS = 3;
const ROUND_MS = 1_500;
const WARMUP_MS = 500;
const STREAM_MB = 1024;
const RSS_SAMPLE_MS = 5;
const DEPLOYMENT = 'bench';
const PUBLIC_DEPLOYMENT = 'bench-public';
const SAMPLED_DEPLOYMENT = 'bench-sampled';

/** The model server: a small JSON for any call, and N MB of bytes at /stream/N. */
const UPSTREAM = `
const http = require('node:http');
const body = JSON.stringify({ predictions: [0.42] });
const block = Buffer.alloc(1024 * 1024, 120);
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/stream/')) {
    const blocks = Number(req.url.slice('/stream/'.length));
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': blocks * block.length });
    let sent = 0;
    const pump = () => {
      while (sent < blocks) { sent++; if (!res.write(block)) return res.once('drain', pump); }
      res.end();
    };
    return pump();
  }
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
});
// Rounds leave connections idle past Node's default 5 s: the bare proxy, which retries nothing, must not reuse one as it closes.
server.keepAliveTimeout = 120_000;
server.listen(Number(process.env.BENCH_PORT), '${HOST}', () => console.log('ready'));`;

/** The least a Node proxy can do: pipe both ways over a keep-alive pool. */
const BARE_PROXY = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true });
http.createServer((req, res) => {
  const path = req.url.replace(/^\\/serve\\/[^/?]+/, '') || '/';
  const sent = http.request({ agent, host: '${HOST}', port: Number(process.env.BENCH_UPSTREAM_PORT), method: req.method, path, headers: req.headers }, (upstream) => {
    res.writeHead(upstream.statusCode, upstream.headers);
    upstream.pipe(res);
  });
  sent.on('error', () => res.writeHead(502).end());
  req.pipe(sent);
}).listen(Number(process.env.BENCH_PORT), '${HOST}', () => console.log('ready'));`;

/**
 * Keeps `concurrency` calls in flight over keep-alive connections for `ms` (after a warm-up), then prints the
 * calls' median and p99 latency and the rate; with `download`, reads one response to its end and prints its size.
 */
const LOAD = `
const http = require('node:http');
const { url, concurrency, ms, warmupMs, headers, download } = JSON.parse(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency || 1 });
const call = (onEnd) => http.request(url, { agent, headers }, (res) => {
  let bytes = 0;
  res.on('data', (chunk) => (bytes += chunk.length));
  res.on('end', () => onEnd(res.statusCode, bytes));
}).on('error', (error) => { console.error(error.message); process.exit(1); }).end();
function load(duration) {
  const latencies = [];
  let failed = 0;
  const until = performance.now() + duration;
  const startedAt = performance.now();
  const worker = (done) => {
    const t0 = performance.now();
    call((status) => {
      latencies.push(performance.now() - t0);
      if (status !== 200) failed++;
      if (performance.now() < until) worker(done); else done();
    });
  };
  return Promise.all(Array.from({ length: concurrency }, () => new Promise(worker)))
    .then(() => ({ latencies, failed, seconds: (performance.now() - startedAt) / 1000 }));
}
(async () => {
  if (download) {
    const t0 = performance.now();
    const { status, bytes } = await new Promise((resolve) => call((status, bytes) => resolve({ status, bytes })));
    console.log(JSON.stringify({ status, bytes, seconds: (performance.now() - t0) / 1000 }));
    return agent.destroy();
  }
  await load(warmupMs);
  const { latencies, failed, seconds } = await load(ms);
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)];
  console.log(JSON.stringify({ calls: latencies.length, failed, rate: latencies.length / seconds, p50: at(0.5), p99: at(0.99) }));
  agent.destroy();
})();`;

interface LoadResult {
  calls: number;
  failed: number;
  rate: number;
  p50: number;
  p99: number;
}

/** Runs a script with `node -e`; resolves with its stdout once it exits, or once it printed `ready` if it serves. */
function runScript(script: string, options: { env?: NodeJS.ProcessEnv; args?: string[]; serves?: boolean } = {}): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(process.execPath, ['-e', script, ...(options.args ?? [])], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'inherit'] });
  if (options.serves) process.once('exit', () => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      if (options.serves && output.includes('ready')) resolve({ child, output });
    });
    child.once('exit', (code) => (code === 0 && !options.serves ? resolve({ child, output }) : reject(new Error(`a bench script exited with code ${code}`))));
  });
}

const load = async (url: string, concurrency: number, headers: Record<string, string>): Promise<LoadResult> => {
  const { output } = await runScript(LOAD, { args: [JSON.stringify({ url, concurrency, ms: ROUND_MS, warmupMs: WARMUP_MS, headers })] });
  const result = JSON.parse(output) as LoadResult;
  if (result.failed > 0) throw new Error(`${result.failed} of ${result.calls} calls to ${url} failed`);
  return result;
};

/** Seconds to read `mb` MB from `url`'s /<mb>. */
const download = async (url: string, mb: number, headers: Record<string, string>): Promise<number> => {
  const { output } = await runScript(LOAD, { args: [JSON.stringify({ url: `${url}/${mb}`, headers, download: true })] });
  const { status, bytes, seconds } = JSON.parse(output) as { status: number; bytes: number; seconds: number };
  if (status !== 200 || bytes !== mb * 1024 * 1024) throw new Error(`the download from ${url} answered ${status} with ${bytes} bytes`);
  return seconds;
};

/**
 * The appliance's HTTP stack with the serving routes in front, as the appliance listens; its one deployment sends
 * calls to `upstream`. Returns its URL, a member's Authorization header, and how to stop it.
 */
async function startAppliance(upstream: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'trainyard-bench-serving-'));
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const app = createApp(loadConfig({ dataDir, host: HOST, gpus: 'fake:1xH100-80GB' }, {}), { log: createLog('info', sink) });
  applyMigrations(app.db);
  await bootstrapAuth({ users: app.users, projects: app.projects, adminUsername: 'admin', adminPassword: 'bench-admin-password' });
  const project = app.projects.ensureDefault();
  const member = await app.users.create({ username: 'member', password: 'bench-member-password' }, { actor: 'bench' });
  const { secret } = app.tokens.create(member, { name: 'bench' }, { actor: 'bench' });
  // Samples are kept under a deployment's id: the sampled one has its row.
  const at = app.now();
  const row = { projectId: project.id, modelUri: 'models:/bench/1', modelName: 'bench', version: 1, image: 'bench', createdBy: member.id, createdAt: at, updatedAt: at };
  const sampledId = insertDeployment(app.db, { ...row, name: SAMPLED_DEPLOYMENT, sampleRate: 1 }).id;
  const target = (name: string, fields: Partial<ServingTarget> = {}): ServingTarget => ({
    id: 0,
    name,
    projectId: project.id,
    public: false,
    version: 1,
    upstreams: [upstream],
    canary: null,
    sampling: { rate: 0, maxBytes: 65_536 },
    ...fields,
  });
  const targets = new Map([
    [DEPLOYMENT, target(DEPLOYMENT)],
    [PUBLIC_DEPLOYMENT, target(PUBLIC_DEPLOYMENT, { public: true })],
    [SAMPLED_DEPLOYMENT, target(SAMPLED_DEPLOYMENT, { id: sampledId, sampling: { rate: 1, maxBytes: 65_536 } })],
  ]);
  const serving = servingRoutes({
    credentials: app.credentials,
    projects: app.projects,
    log: app.log,
    metrics: createServingMetrics({ now: app.now }),
    target: (name) => targets.get(name),
    trustProxy: false,
    samples: app.requestSamples,
  });
  const server = serve({ fetch: createServer(app).fetch, hostname: HOST, port: 0, createServer: serving.createServer }) as Server;
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://${HOST}:${(server.address() as AddressInfo).port}`,
    authorization: `Bearer ${secret}`,
    async close() {
      serving.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** How long `download` took, and how far the RSS of process `pid` rose meanwhile above where it stood before. */
async function rssWhileDownloading(pid: number, download: () => Promise<number>): Promise<{ seconds: number; beforeMb: number; growthMb: number }> {
  const beforeMb = readRssMb(pid);
  let peakMb = beforeMb;
  const sampler = setInterval(() => (peakMb = Math.max(peakMb, readRssMb(pid))), RSS_SAMPLE_MS);
  try {
    const seconds = await download();
    return { seconds, beforeMb, growthMb: Math.max(peakMb, readRssMb(pid)) - beforeMb };
  } finally {
    clearInterval(sampler);
  }
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
const percentOf = (value: number, baseline: number) => Math.round((value / baseline) * 1000) / 10;

export async function benchServing(): Promise<BenchResult> {
  const [upstreamPort, barePort] = [await freePort(), await freePort()];
  const upstream = await runScript(UPSTREAM, { env: { BENCH_PORT: String(upstreamPort) }, serves: true });
  const bare = await runScript(BARE_PROXY, { env: { BENCH_PORT: String(barePort), BENCH_UPSTREAM_PORT: String(upstreamPort) }, serves: true });
  const direct = `http://${HOST}:${upstreamPort}`;
  const bareUrl = `http://${HOST}:${barePort}`;
  const appliance = await startAppliance(direct);
  const auth = { Authorization: appliance.authorization };
  const figures: Figure[] = [];
  try {
    const contenders = {
      direct: (c: number) => load(`${direct}/invocations`, c, {}),
      proxy: (c: number) => load(`${appliance.url}/serve/${DEPLOYMENT}/invocations`, c, auth),
      public: (c: number) => load(`${appliance.url}/serve/${PUBLIC_DEPLOYMENT}/invocations`, c, {}),
      sampled: (c: number) => load(`${appliance.url}/serve/${SAMPLED_DEPLOYMENT}/invocations`, c, auth),
      bare: (c: number) => load(`${bareUrl}/serve/${DEPLOYMENT}/invocations`, c, {}),
    };
    type Contender = keyof typeof contenders;
    const order = Object.keys(contenders) as Contender[];
    for (const concurrency of CONCURRENCIES) {
      const results: Record<Contender, LoadResult[]> = { direct: [], proxy: [], public: [], sampled: [], bare: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (let step = 0; step < order.length; step++) {
          const name = order[(round + step) % order.length]!;
          results[name].push(await contenders[name](concurrency));
        }
      }
      const added = (name: Contender, field: 'p50' | 'p99') => results[name].map((result, round) => round3(result[field] - results.direct[round]![field]));
      const rate = (name: Contender) => median(results[name].map((result) => result.rate));
      const share = (name: Contender) => percentOf(rate(name), rate('direct'));
      const c = `c=${concurrency}:`;
      figures.push(
        { label: `${c} median latency through the proxy`, value: median(results.proxy.map((result) => result.p50)), unit: 'ms', baseline: median(results.direct.map((result) => result.p50)) },
        { label: `${c} added median latency`, value: median(added('proxy', 'p50')), unit: 'ms', target: '<= 0.3 ms', samples: added('proxy', 'p50') },
        { label: `${c} added p99 latency`, value: median(added('proxy', 'p99')), unit: 'ms', target: '<= 1 ms', samples: added('proxy', 'p99') },
        { label: `${c} throughput through the proxy`, value: Math.round(rate('proxy')), unit: '/s', baseline: Math.round(rate('direct')) },
        { label: `${c} throughput, share of direct`, value: share('proxy'), unit: '%', target: '>= 90 %' },
        { label: `${c} public deployment (no credential): added median`, value: median(added('public', 'p50')), unit: 'ms', samples: added('public', 'p50') },
        { label: `${c} public deployment: throughput, share of direct`, value: share('public'), unit: '%' },
        { label: `${c} every call sampled: added median`, value: median(added('sampled', 'p50')), unit: 'ms', samples: added('sampled', 'p50') },
        { label: `${c} every call sampled: throughput, share of direct`, value: share('sampled'), unit: '%' },
        { label: `${c} reference, bare node:http proxy: added median`, value: median(added('bare', 'p50')), unit: 'ms', samples: added('bare', 'p50') },
        { label: `${c} reference, bare node:http proxy: share of direct`, value: share('bare'), unit: '%' },
      );
    }

    const directSeconds = await download(`${direct}/stream`, STREAM_MB, {});
    const viaProxy = await rssWhileDownloading(process.pid, () => download(`${appliance.url}/serve/${DEPLOYMENT}/stream`, STREAM_MB, auth));
    const again = await rssWhileDownloading(process.pid, () => download(`${appliance.url}/serve/${DEPLOYMENT}/stream`, STREAM_MB, auth));
    const viaBare = await rssWhileDownloading(bare.child.pid!, () => download(`${bareUrl}/serve/${DEPLOYMENT}/stream`, STREAM_MB, {}));
    figures.push(
      { label: `${STREAM_MB} MB response through the proxy`, value: viaProxy.seconds, unit: 's', baseline: directSeconds },
      { label: 'reference: through the bare node:http proxy', value: viaBare.seconds, unit: 's', baseline: directSeconds },
      { label: `appliance RSS growth, first stream (from ${Math.round(viaProxy.beforeMb)} MB)`, value: viaProxy.growthMb, unit: 'MB' },
      { label: `reference: bare proxy RSS growth, first stream (from ${Math.round(viaBare.beforeMb)} MB)`, value: viaBare.growthMb, unit: 'MB' },
      { label: `appliance RSS growth, second stream (from ${Math.round(again.beforeMb)} MB)`, value: again.growthMb, unit: 'MB', target: '<= 16 MB' },
    );
  } finally {
    await appliance.close();
    upstream.child.kill();
    bare.child.kill();
  }
  return { name: 'serving', figures };
}
