import type { Log } from '../lib/log.ts';
import type { GpuDevice, GpuInventory, GpuSnapshot, SkippedLine } from './gpu-types.ts';
import { withMigDevices } from './mig-devices.ts';
import { NvidiaSmiError, type RunNvidiaSmi } from './nvidia-smi-runner.ts';
import { COMPUTE_APPS_FIELDS, parseComputeApps } from './parse-compute-apps.ts';
import { parseGpuList } from './parse-gpu-list.ts';
import { parseMigMemory } from './parse-mig-memory.ts';
import { parseQueryGpu, QUERY_GPU_FIELDS, type GpuReading } from './parse-query-gpu.ts';
import { shareSample } from './shared-sample.ts';

const CSV = '--format=csv,noheader,nounits';

export interface NvidiaInventoryDeps {
  run: RunNvidiaSmi;
  log: Log;
  now: () => number;
  /** How long callers share one sample. */
  sampleWindowMs?: number;
}

/** `-L` names the MIG devices; `-q` of each GPU in MIG mode has their memory. */
async function readMigDevices(run: RunNvidiaSmi, gpus: GpuReading[]): Promise<{ devices: GpuDevice[]; skipped: SkippedLine[] }> {
  const inMigMode = gpus.filter((gpu) => gpu.migMode === 'enabled');
  if (inMigMode.length === 0) return { devices: withMigDevices(gpus, [], new Map()), skipped: [] };
  const [listText, ...queryTexts] = await Promise.all([run(['-L']), ...inMigMode.map((gpu) => run(['-q', '-i', gpu.uuid]))]);
  const listed = parseGpuList(listText);
  const memory = new Map(queryTexts.flatMap((text) => [...parseMigMemory(text)]));
  return { devices: withMigDevices(gpus, listed.gpus, memory), skipped: listed.skipped };
}

/** One sample: the GPUs, their MIG devices when any GPU is in MIG mode, and the compute processes. */
async function readSnapshot(run: RunNvidiaSmi, now: () => number): Promise<{ snapshot: GpuSnapshot; skipped: SkippedLine[] }> {
  const sampledAt = now();
  const [gpuText, appsText] = await Promise.all([
    run([`--query-gpu=${QUERY_GPU_FIELDS.join(',')}`, CSV]),
    run([`--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`, CSV]),
  ]);
  const { gpus, skipped } = parseQueryGpu(gpuText);
  const apps = parseComputeApps(appsText);
  const mig = await readMigDevices(run, gpus);
  return {
    snapshot: { kind: 'nvidia', sampledAt, devices: mig.devices, processes: apps.processes },
    skipped: [...skipped, ...apps.skipped, ...mig.skipped],
  };
}

/**
 * Real GPUs through nvidia-smi. A sample that fails keeps the last good devices (none when nvidia-smi is gone)
 * with the reason in `problem`; each new problem is logged once, not at every sample, and so is the recovery.
 */
export function createNvidiaInventory({ run, log, now, sampleWindowMs = 2_000 }: NvidiaInventoryDeps): GpuInventory {
  let lastGood: GpuSnapshot | undefined;
  let lastProblem: string | undefined;
  let lastSkipped = '';

  async function sample(): Promise<GpuSnapshot> {
    try {
      const { snapshot, skipped } = await readSnapshot(run, now);
      const skippedNow = JSON.stringify(skipped);
      if (skipped.length > 0 && skippedNow !== lastSkipped) log.warn({ skipped }, 'nvidia-smi printed lines that were skipped');
      lastSkipped = skippedNow;
      if (lastProblem !== undefined) log.info('nvidia-smi answers again');
      lastProblem = undefined;
      lastGood = snapshot;
      return snapshot;
    } catch (error) {
      if (!(error instanceof NvidiaSmiError)) throw error;
      if (error.message !== lastProblem) {
        log.warn({ failure: error.failure }, `GPU sample skipped: ${error.message}${error.failure === 'missing' ? '; no GPUs, CPU jobs still run' : ''}`);
      }
      lastProblem = error.message;
      if (error.failure === 'missing') lastGood = undefined;
      return { kind: 'nvidia', sampledAt: lastGood?.sampledAt ?? now(), devices: lastGood?.devices ?? [], processes: lastGood?.processes ?? [], problem: error.message };
    }
  }

  return {
    kind: 'nvidia',
    list: shareSample(sample, sampleWindowMs, now),
    setLoad() {},
  };
}
