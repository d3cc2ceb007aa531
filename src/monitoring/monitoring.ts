import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Db } from '../db/connection.ts';
import type { GpuInventory, GpuProcess, GpuSnapshot } from '../gpu/gpu-inventory.ts';
import type { Bus } from '../lib/bus.ts';
import type { Log } from '../lib/log.ts';
import type { JobRecord, Jobs } from '../scheduler/jobs.ts';
import { createContainerReader, type ContainerSource, type RunningContainer } from './container-readings.ts';
import { createGpuReader } from './gpu-readings.ts';
import type { ReadHost } from './host-readings.ts';
import { createRollups } from './rollup-queries.ts';
import { createSampleWrites } from './sample-queries.ts';
import type { HostReading, MonitorSample } from './sample.ts';
import { checkSeriesQuery, planSeries, withGaps } from './series-plan.ts';
import { createSeriesReads } from './series-queries.ts';
import { SERIES_FIELDS, type Series, type SeriesQuery } from './series.ts';
import { createSkipLog } from './skip-log.ts';
import { expireOldRows, rollUpClosedBuckets } from './tier-maintenance.ts';
import { bucketStart, DEFAULT_RETENTION, MINUTE_MS, tiersOf, type Retention } from './tiers.ts';

export interface MonitoringDeps {
  db: Db;
  bus: Bus;
  log: Log;
  now: () => number;
  gpus: Pick<GpuInventory, 'list'>;
  jobs: Pick<Jobs, 'inStates'>;
  /** The container runtime, asked for only when a job's container is running. */
  containers: () => ContainerSource;
  readHost: ReadHost;
  intervalMs: number;
  retention?: Retention;
  /** The longest a round waits for any one source (the GPUs, the host, a container). */
  readTimeoutMs?: number;
}

export interface Monitoring {
  /** Takes a round every interval; a round still running when the next is due makes that one skip. */
  start(): void;
  /** Stops the timer and waits for a round in progress. */
  stop(): Promise<void>;
  /** One round now (after any in progress): read, store, publish `monitoring.sample`. Never rejects for a fault of a source. */
  sampleOnce(): Promise<MonitorSample>;
  latest(): MonitorSample | undefined;
  /** A chart's points; a bad query is a 400 that says what is wrong. */
  series(query: SeriesQuery): Series;
}

const DEFAULT_READ_TIMEOUT_MS = 10_000;
/** Retention batches one maintenance pass runs at most; the rest waits for the next minute. */
const MOST_EXPIRE_BATCHES = 20;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** `promise`, or a rejection once `ms` have passed; the timer does not keep the process alive. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} gave no answer within ${ms / 1000} s`)), ms).unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * The sampler: every `intervalMs` it reads the GPUs (with the jobs that hold them), the host and each running
 * job's container, stores the round in the raw tier, rolls each closed hour of rounds into minutes and each
 * closed day of minutes into hours, expires old rows and publishes the round. A source that fails, hangs or answers nonsense costs only its own part of the round,
 * named in `skipped`; a database that cannot be written (a full disk) costs the stored copy, not the round.
 */
export function createMonitoring(deps: MonitoringDeps): Monitoring {
  const { db, bus, log, now, intervalMs } = deps;
  const readTimeoutMs = deps.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  const tiers = tiersOf(intervalMs, deps.retention ?? DEFAULT_RETENTION);
  const writes = createSampleWrites(db);
  const rollups = createRollups(db);
  const reads = createSeriesReads(db);
  const gpuReader = createGpuReader();
  const containerReader = createContainerReader(deps.containers, readTimeoutMs);
  const logSkipped = createSkipLog(log);
  let latest: MonitorSample | undefined;
  let previousAt: number | undefined;
  let maintainedMinute = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<MonitorSample> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function readGpus(): Promise<{ snapshot: GpuSnapshot | undefined; skipped: string[] }> {
    try {
      return { snapshot: await within(deps.gpus.list(), readTimeoutMs, 'the GPU source'), skipped: [] };
    } catch (error) {
      return { snapshot: undefined, skipped: [`GPUs: ${messageOf(error)}`] };
    }
  }

  async function readHost(): Promise<{ host: HostReading | null; skipped: string[] }> {
    try {
      return { host: await within(deps.readHost(), readTimeoutMs, 'the host'), skipped: [] };
    } catch (error) {
      return { host: null, skipped: [`host: ${messageOf(error)}`] };
    }
  }

  function readRunningJobs(): { jobs: JobRecord[]; skipped: string[] } {
    try {
      return { jobs: deps.jobs.inStates(['running']), skipped: [] };
    } catch (error) {
      return { jobs: [], skipped: [`running jobs: ${messageOf(error)}`] };
    }
  }

  /** Rolls up and expires once a minute, in bounded batches with a turn of the event loop between them. */
  async function maintain(at: number): Promise<string[]> {
    const minute = bucketStart(at, MINUTE_MS);
    if (minute <= maintainedMinute) return [];
    maintainedMinute = minute;
    try {
      rollUpClosedBuckets(rollups, tiers, at);
      for (let batch = 0; batch < MOST_EXPIRE_BATCHES && expireOldRows(rollups, tiers, at); batch++) await nextTurn();
      return [];
    } catch (error) {
      return [`downsampling and retention: ${messageOf(error)}`];
    }
  }

  async function takeRound(): Promise<MonitorSample> {
    const at = now();
    const sinceBefore = previousAt === undefined ? intervalMs : Math.max(0, at - previousAt);
    previousAt = at;
    const jobsRead = readRunningJobs();
    const running = jobsRead.jobs;
    const containers: RunningContainer[] = running.flatMap((job) =>
      job.containerId === null ? [] : [{ jobId: job.id, deploymentId: job.deploymentId, containerId: job.containerId, holdsGpus: job.gpuUuids.length > 0 }],
    );
    const gpusRead = readGpus();
    // A simulated source reports no processes, and a failed sample none of this round: GPU memory per container is then unknown.
    const processes = gpusRead.then(({ snapshot }): readonly GpuProcess[] | null =>
      snapshot?.kind === 'nvidia' && snapshot.problem === undefined ? snapshot.processes : null,
    );
    const [gpuPart, hostPart, containerPart] = await Promise.all([gpusRead, readHost(), containerReader.read(containers, processes)]);
    const gpus = gpuPart.snapshot ? gpuReader.read(gpuPart.snapshot, running) : { gpus: [], skipped: [] };
    const sample: MonitorSample = {
      at,
      intervalMs: Math.min(sinceBefore, 2 * intervalMs),
      gpus: gpus.gpus,
      host: hostPart.host,
      containers: containerPart.containers,
      skipped: [...jobsRead.skipped, ...gpuPart.skipped, ...gpus.skipped, ...hostPart.skipped, ...containerPart.skipped],
    };
    try {
      writes.write([sample]);
      sample.skipped.push(...(await maintain(at)));
    } catch (error) {
      sample.skipped.push(`storing the sample: ${messageOf(error)}`);
    }
    logSkipped(sample.skipped);
    latest = sample;
    try {
      bus.publish('monitoring.sample', sample);
    } catch (error) {
      log.error({ err: error }, 'a listener of monitoring.sample failed');
    }
    return sample;
  }

  /** Rounds run one after another, never side by side. */
  function round(): Promise<MonitorSample> {
    const before = inFlight;
    const next = (before ? before.catch(() => undefined) : Promise.resolve()).then(takeRound);
    inFlight = next;
    const clear = () => {
      if (inFlight === next) inFlight = undefined;
    };
    next.then(clear, clear);
    return next;
  }

  return {
    start() {
      timer ??= setInterval(() => {
        if (inFlight) return;
        round().catch((error: unknown) => log.error({ err: error }, 'a monitoring round failed'));
      }, intervalMs).unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await inFlight?.catch(() => undefined);
    },
    sampleOnce: round,
    latest: () => latest,
    series(query) {
      const checked = checkSeriesQuery(query);
      const plan = planSeries(checked, tiers, now(), (resolution) => rollups.watermark(resolution));
      let rows = reads.read(checked.subject, plan.parts, plan.exact ? 1 : plan.width);
      // Rounds taken closer together than the interval (sampleOnce between two timed ones) are merged after all.
      if (rows.length > checked.maxPoints) rows = reads.read(checked.subject, plan.parts, plan.width);
      rows = withGaps(rows, plan.width);
      const names = SERIES_FIELDS[checked.subject.kind];
      return {
        resolutionMs: plan.width,
        at: rows.map((row) => row[0]),
        fields: Object.fromEntries(names.map((name, i) => [name, rows.map((row) => row[i + 1] as number | null)])),
      };
    },
  };
}
