import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createApp, type App } from '../src/app.ts';
import { bootstrapAuth } from '../src/auth/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import { applyMigrations } from '../src/db/migrate.ts';
import type { GpuSnapshot } from '../src/gpu/gpu-inventory.ts';
import { createBus } from '../src/lib/bus.ts';
import { createLog } from '../src/lib/log.ts';
import { createHostReader } from '../src/monitoring/host-readings.ts';
import { createMonitoring, type Monitoring } from '../src/monitoring/monitoring.ts';
import { createRollups } from '../src/monitoring/rollup-queries.ts';
import { createSampleWrites } from '../src/monitoring/sample-queries.ts';
import type { MonitorSample } from '../src/monitoring/sample.ts';
import { rollUpClosedBuckets } from '../src/monitoring/tier-maintenance.ts';
import { MINUTE_MS, tiersOf } from '../src/monitoring/tiers.ts';
import { readInstanceId } from '../src/scheduler/instance-id.ts';
import { jobSubmissionSchema } from '../src/scheduler/job-request.ts';
import { engineWithImage, IMAGE, removeBenchContainers } from './containers.ts';
import { median, type BenchResult } from './report.ts';

/**
 * The monitor's own cost, issue 6: rounds of the sampler with 8 simulated H100s and 50 running jobs, each in a
 * real sleeping container on the local engine, and the time of a 30-day chart query.
 *
 * Real: the round itself (the simulated GPUs' readings, holders from the jobs in SQLite, `docker stats` of each of
 * the 50 containers over the engine's socket, `docker top` of the 8 GPU jobs' containers when their processes are
 * first seen, the host's counters, the write to SQLite, retention, the publish), and the rollup at a day's end.
 * Stand-in: the compute-process list that nvidia-smi would print (simulated GPUs report none), in which each GPU
 * job's container shell holds 20 GB. CPU time is the process's own (process.cpuUsage around each round) plus that
 * of any child process it waited for (/proc/self/stat), as a share of one core at the default 5 s interval; the
 * rollup is added as if it came every hour. Rounds run 200 ms apart in real time while the sampler's clock moves
 * 5 s per round.
 *
 * The chart query reads 30 days of one GPU from a database holding 30 days of minutes for all 59 subjects (8 GPUs,
 * the host, 50 containers) laid out as the hourly rollups write them, against a plain prepared SELECT of the same
 * rows, alternately.
 */

const GPUS = 8;
const CONTAINERS = 50;
const INTERVAL_MS = 5_000;
const ROUNDS = 60;
const WARMUP_ROUNDS = 3;
const ROUND_SPACING_MS = 200;
const QUERY_SAMPLES = 15;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const GB = 1e9;
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time of the waited-for children (the shells systeminformation runs), in ms: utime+stime of the reaped ones. */
function childrenCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // Fields 16 and 17 of stat(5) (cutime, cstime), counted from the state field, which is field 3.
  return ((Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND) * 1000;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startJobs(app: App, clock: { now: number }): Promise<number[]> {
  await bootstrapAuth({ ...app, adminUsername: 'admin', adminPassword: 'bench-password-1' });
  const admin = app.users.get('admin');
  const gpuUuids = (await app.gpus.list()).devices.map((gpu) => gpu.uuid);
  const shells: number[] = [];
  for (let batch = 0; batch < CONTAINERS; batch += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, CONTAINERS - batch) }, async (_, offset) => {
        const i = batch + offset;
        const gpus = i < GPUS ? [gpuUuids[i]!] : [];
        const { id } = await app.runtime.start({ kind: 'job', id: randomUUID().slice(0, 12), project: 'bench', image: IMAGE, command: ['sleep', '3600'] });
        const job = app.jobs.submit(admin, jobSubmissionSchema.parse({ image: IMAGE, command: ['sleep', '3600'], gpus: gpus.length }));
        app.jobs.move(job.id, 'queued', 'starting', 'placed', { gpuUuids: gpus });
        app.jobs.move(job.id, 'starting', 'running', 'started', { containerId: id, startedAt: clock.now });
        if (i < GPUS) shells[i] = (await app.runtime.processIds(id))[0]!;
      }),
    );
  }
  return shells;
}

/** The sample's subjects, each alone in a copy of it: what one subject's rows look like written together. */
function subjectsOf(sample: MonitorSample): MonitorSample[] {
  return [
    ...sample.gpus.map((gpu) => ({ ...sample, gpus: [gpu], host: null, containers: [] })),
    { ...sample, gpus: [], containers: [] },
    ...sample.containers.map((container) => ({ ...sample, gpus: [], host: null, containers: [container] })),
  ];
}

const wave = (at: number) => (Math.sin(at / 3.6e6) + 1) / 2;
const varied = (sample: MonitorSample, at: number): MonitorSample => ({
  ...sample,
  at,
  gpus: sample.gpus.map((gpu) => ({ ...gpu, utilization: wave(at), memoryUsed: wave(at) * 40 * GB })),
  containers: sample.containers.map((container) => ({ ...container, cpu: wave(at) * 2 })),
});

/**
 * 30 days of minute rows for every subject of the sample up to `until`, laid out as the hourly rollups write
 * them (each hour subject by subject), then the raw rounds of the last hour, as the sampler writes them.
 */
function fillHistory(app: App, sample: MonitorSample, until: number): void {
  const writes = createSampleWrites(app.db);
  for (let day = until - 30 * DAY_MS; day < until - HOUR_MS; day += DAY_MS) {
    const hours = Array.from({ length: 24 }, (_, h) => day + h * HOUR_MS).filter((hour) => hour < until - HOUR_MS);
    const rounds = hours.flatMap((hour) =>
      subjectsOf(sample).flatMap((subject) => Array.from({ length: HOUR_MS / MINUTE_MS }, (_, m) => varied(subject, hour + m * MINUTE_MS))),
    );
    writes.write(rounds, { resolution: MINUTE_MS, samples: MINUTE_MS / INTERVAL_MS });
  }
  writes.write(Array.from({ length: HOUR_MS / INTERVAL_MS }, (_, k) => varied(sample, until - HOUR_MS + k * INTERVAL_MS)));
}

async function measureRounds(monitoring: Monitoring, clock: { now: number }): Promise<{ cpuMs: number[]; childrenMs: number; skipped: string[] }> {
  const cpuMs: number[] = [];
  let childrenMs = 0;
  const skipped = new Set<string>();
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    await sleep(ROUND_SPACING_MS);
    clock.now += INTERVAL_MS;
    const children = childrenCpuMs();
    const before = process.cpuUsage();
    const sample = await monitoring.sampleOnce();
    const used = process.cpuUsage(before);
    if (round < WARMUP_ROUNDS) continue;
    cpuMs.push((used.user + used.system) / 1000);
    childrenMs += childrenCpuMs() - children;
    for (const reason of sample.skipped) skipped.add(reason);
    if (sample.containers.length !== CONTAINERS || sample.gpus.length !== GPUS) throw new Error(`a round read ${sample.containers.length} containers and ${sample.gpus.length} GPUs`);
  }
  return { cpuMs, childrenMs, skipped: [...skipped] };
}

/** The engine's answers alone, the largest part of a round: one `docker stats` request per container, all at once. */
async function measureStatsAlone(app: App): Promise<number[]> {
  const ids = app.jobs.inStates(['running']).map((job) => job.containerId!);
  const cpuMs: number[] = [];
  for (let round = 0; round < 20; round++) {
    await sleep(ROUND_SPACING_MS);
    const before = process.cpuUsage();
    await Promise.all(ids.map((id) => app.runtime.usageOf(id, 10_000)));
    const used = process.cpuUsage(before);
    cpuMs.push((used.user + used.system) / 1000);
  }
  return cpuMs;
}

function measureChart(app: App, monitoring: Monitoring, uuid: string, now: number) {
  const from = now - 30 * DAY_MS;
  const plain = app.db.$client
    .prepare(
      `SELECT at, samples, utilization, memory_used, memory_total, temperature, power_draw, power_limit FROM gpu_samples
        WHERE resolution = ? AND gpu_uuid = ? AND at >= ? AND at <= ?`,
    )
    .raw();
  const ours = () => monitoring.series({ subject: { kind: 'gpu', uuid }, from, to: now });
  const baseline = () => plain.all(MINUTE_MS, uuid, from, now);
  const timed = (run: () => unknown) => {
    const started = performance.now();
    run();
    return performance.now() - started;
  };
  for (let i = 0; i < 3; i++) {
    ours();
    baseline();
  }
  const oursMs: number[] = [];
  const baselineMs: number[] = [];
  for (let i = 0; i < QUERY_SAMPLES; i++) {
    oursMs.push(timed(ours));
    baselineMs.push(timed(baseline));
  }
  return { oursMs, baselineMs, points: ours().at.length, rows: baseline().length };
}

export async function benchMonitoring(): Promise<BenchResult> {
  const docker = await engineWithImage();
  const dataDir = mkdtempSync(join(tmpdir(), 'trainyard-bench-monitoring-'));
  const clock = { now: Date.now() - (Date.now() % MINUTE_MS) };
  const app = createApp(loadConfig({ dataDir, logLevel: 'silent', gpus: `fake:${GPUS}xH100-80GB` }, {}), { now: () => clock.now });
  try {
    applyMigrations(app.db);
    const shells = await startJobs(app, clock);
    const gpus = {
      async list(): Promise<GpuSnapshot> {
        const simulated = await app.gpus.list();
        const processes = simulated.devices.map((gpu, i) => ({ pid: shells[i]!, gpuUuid: gpu.uuid, usedMemory: 20 * GB }));
        return { ...simulated, kind: 'nvidia', processes };
      },
    };
    const bus = createBus();
    const monitoring = createMonitoring({
      db: app.db,
      // A bus of its own: the accounting that the app's bus feeds is not the sampler's cost.
      bus,
      log: createLog('silent'),
      now: () => clock.now,
      gpus,
      jobs: app.jobs,
      containers: () => app.runtime,
      readHost: createHostReader(dataDir),
      intervalMs: INTERVAL_MS,
    });
    let published = 0;
    bus.subscribe('monitoring.sample', () => published++);

    // The clock the sampler sees starts an hour before midnight: the history fills the 30 days before, and the
    // rollup at midnight (an hour of raw rows into minutes, a day of minutes into hours) is measured on its own.
    const midnight = clock.now - (clock.now % DAY_MS);
    clock.now = midnight - HOUR_MS;
    const template = await monitoring.sampleOnce();
    fillHistory(app, template, midnight);
    const rollups = createRollups(app.db);
    const tiers = tiersOf(INTERVAL_MS);
    rollUpClosedBuckets(rollups, tiers, midnight - HOUR_MS);
    const beforeRollup = process.cpuUsage();
    rollUpClosedBuckets(rollups, tiers, midnight);
    const rollupUsage = process.cpuUsage(beforeRollup);
    const rollupMs = (rollupUsage.user + rollupUsage.system) / 1000;

    clock.now = midnight;
    const rounds = await measureRounds(monitoring, clock);
    if (rounds.skipped.length > 0) throw new Error(`rounds skipped parts: ${rounds.skipped.join('; ')}`);
    const gpuMemory = monitoring.latest()!.containers.filter((container) => container.gpuMemoryBytes === 20 * GB).length;
    if (gpuMemory !== GPUS || published < ROUNDS) throw new Error(`GPU memory attributed to ${gpuMemory} containers, ${published} rounds published`);
    const chart = measureChart(app, monitoring, monitoring.latest()!.gpus[3]!.uuid, clock.now);
    const statsMs = await measureStatsAlone(app);

    const ownMs = rounds.cpuMs.reduce((sum, ms) => sum + ms, 0) / ROUNDS;
    const childrenMs = rounds.childrenMs / ROUNDS;
    // Counted as if the midnight rollup came every hour; the day's hours are 24 times rarer than that.
    const rollupPerRoundMs = rollupMs / (HOUR_MS / INTERVAL_MS);
    const percentOfCore = ((ownMs + childrenMs + rollupPerRoundMs) / INTERVAL_MS) * 100;
    return {
      name: 'monitoring',
      figures: [
        { label: `sampler round: mean CPU time in the process (${GPUS} GPUs, ${CONTAINERS} containers)`, value: ownMs, unit: 'ms', samples: rounds.cpuMs },
        { label: `of which \`docker stats\` of the ${CONTAINERS} containers alone (runtime.usageOf)`, value: median(statsMs), unit: 'ms', samples: statsMs },
        { label: 'sampler round: CPU time of child processes', value: childrenMs, unit: 'ms' },
        { label: `midnight rollup: ${GPUS + 1 + CONTAINERS} subjects' hour of rounds and day of minutes`, value: rollupMs, unit: 'ms' },
        { label: 'sampler: share of one core at the default 5 s interval', value: percentOfCore, unit: '%', target: '<= 1 %' },
        { label: `30-day chart of a GPU (${chart.points} points from ${chart.rows} minute rows)`, value: median(chart.oursMs), unit: 'ms', baseline: median(chart.baselineMs), target: '<= 50 ms', samples: chart.oursMs },
        { label: 'baseline: prepared SELECT of the same rows', value: median(chart.baselineMs), unit: 'ms', samples: chart.baselineMs },
      ],
    };
  } finally {
    await removeBenchContainers(docker, [`dev.trainyard.instance=${readInstanceId(dataDir)}`]);
    app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
