import type {
  PlaceableGpu,
  PlacementInput,
  QueuedJob,
  Resources,
  RunningJob,
} from '../../src/scheduler/placement-types.ts';
import { GIB, HOUR, MINUTE, NOW } from './placement-world.ts';

/** Random but consistent machine states for property checks: every GPU, job and quota drawn from a seeded PRNG. */

const USERS = ['ada', 'bob', 'carl', 'dana'];
const PROJECTS = ['vision', 'nlp', 'speech'];

function pickFrom<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

const between = (random: () => number, low: number, high: number) => low + Math.floor(random() * (high - low + 1));

function randomGpus(random: () => number): PlaceableGpu[] {
  const count = between(random, 1, 10);
  const migSizes = [10, 20, 40];
  return Array.from({ length: count }, (_, index) => {
    const mig = random() < 0.2;
    const gb = mig ? pickFrom(random, migSizes) : pickFrom(random, [24, 48, 80]);
    const foreign = random() < 0.2 ? random() * 0.3 * gb : 0;
    return {
      uuid: `${mig ? 'MIG' : 'GPU'}-${index}`,
      index: mig ? Math.floor(index / 3) : index,
      name: mig ? `A100 MIG ${gb}gb` : `GPU ${gb}GB`,
      memoryTotal: gb * GIB,
      memoryFree: (gb - foreign) * GIB,
    };
  });
}

function randomResources(random: () => number, gpuCount: number): Resources {
  const kind = random();
  const host = { cpus: between(random, 0, 16), memory: between(random, 0, 64) * GIB };
  if (kind < 0.1) return host;
  if (kind < 0.55) return { ...host, gpus: Math.min(pickFrom(random, [1, 1, 1, 2, 2, 4, 8]), gpuCount + between(random, 0, 1)) };
  if (kind < 0.95) return { ...host, gpuMemory: between(random, 1, 90) * GIB };
  return { ...host, gpus: 1, gpuMemory: -GIB };
}

const timeLimit = (random: () => number) => (random() < 0.65 ? between(random, 5, 600) * MINUTE : undefined);

function person(random: () => number) {
  return { user: pickFrom(random, USERS), project: pickFrom(random, PROJECTS), priority: between(random, 0, 3) };
}

/** Running jobs that fit the machine as it is: whole GPUs on free units, reservations within free memory. */
function randomRunning(random: () => number, gpus: PlaceableGpu[]): RunningJob[] {
  const jobs: RunningJob[] = [];
  const reservedGb = new Map<string, number>();
  const wholeTaken = new Set<string>();
  let id = 0;
  const runningJob = (resources: Resources, gpuUuids: string[]): RunningJob => ({
    id: `r${id++}`,
    ...person(random),
    resources,
    gpuUuids,
    startedAt: NOW - between(random, 1, 300) * MINUTE,
    timeLimitMs: timeLimit(random),
    preemptible: random() < 0.5,
    stopping: random() < 0.1,
  });
  for (const gpu of gpus) {
    const roll = random();
    const host = { cpus: between(random, 0, 8), memory: between(random, 0, 32) * GIB };
    if (roll < 0.35) {
      wholeTaken.add(gpu.uuid);
      jobs.push(runningJob({ ...host, gpus: 1 }, [gpu.uuid]));
    } else if (roll < 0.6) {
      const free = gpu.memoryFree / GIB;
      for (let n = between(random, 1, 3); n > 0; n--) {
        const gb = between(random, 1, Math.max(1, Math.floor(free / 3)));
        if ((reservedGb.get(gpu.uuid) ?? 0) + gb > free) break;
        reservedGb.set(gpu.uuid, (reservedGb.get(gpu.uuid) ?? 0) + gb);
        jobs.push(runningJob({ ...host, gpuMemory: gb * GIB }, [gpu.uuid]));
      }
    }
  }
  for (let n = between(random, 0, 3); n > 0; n--) jobs.push(runningJob({ cpus: between(random, 1, 8), memory: GIB }, []));
  // Jobs use part of what they reserved; the report shows it, and says whose it is only some of the time.
  for (const gpu of gpus) {
    const used = random() * (reservedGb.get(gpu.uuid) ?? 0) * GIB;
    gpu.memoryFree -= used;
    if (random() < 0.5) gpu.memoryUsedByJobs = used;
  }
  return jobs;
}

function randomQueue(random: () => number, gpuCount: number): QueuedJob[] {
  return Array.from({ length: between(random, 0, 40) }, (_, n) => ({
    id: n,
    ...person(random),
    resources: randomResources(random, gpuCount),
    submittedAt: NOW - between(random, 0, 180) * MINUTE,
    timeLimitMs: timeLimit(random),
  }));
}

export function randomState(random: () => number): PlacementInput {
  const gpus = randomGpus(random);
  const quotas =
    random() < 0.5 ? { gpusPerUser: between(random, 1, 6), gpusPerProject: random() < 0.5 ? between(random, 2, 8) : undefined } : undefined;
  return {
    now: NOW,
    gpus,
    host: { cpus: between(random, 8, 128), memory: between(random, 32, 1024) * GIB },
    running: randomRunning(random, gpus),
    queue: randomQueue(random, gpus.length),
    quotas,
    recentGpuSeconds: new Map(USERS.map((user) => [user, between(random, 0, 10) * HOUR / 1000])),
    policy: random() < 0.3 ? { maxOvertakeMs: between(random, 1, 120) * MINUTE } : undefined,
  };
}
