import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { createLog } from '../src/lib/log.ts';
import { createContainerRuntime, type ContainerRuntime } from '../src/runtime/container-runtime.ts';
import { createDockerClient, dockerAvailable } from '../src/runtime/docker-client.ts';
import { median, type BenchResult } from './report.ts';

/**
 * Container start latency through the runtime (validation, policy, create with Trainyard's labels, limits and
 * security options, start) against a bare `docker run` of the same image, both in the same run and interleaved:
 * - to running: runtime.start() resolving vs `docker run -d --rm IMAGE true` returning (the CLI returns once the
 *   container has started) — the runtime's share of the submit-to-running latency;
 * - run to completion: start, wait for the exit of `true`, remove, vs `docker run --rm IMAGE true`;
 * - the same start through dockerode with no options but image and command, to show what the options themselves cost.
 * Each round runs the three in a rotating order; the first rounds are a discarded warm-up.
 */

export const IMAGE = 'trainyard-test/busybox:1';
const DOCKER_CLI = '/usr/bin/docker';
const RUNS = 15;
const WARMUP_ROUNDS = 2;
const BENCH_LABEL = 'dev.trainyard.bench';
const execFileAsync = promisify(execFile);

interface Samples {
  runtimeToRunning: number[];
  cliToRunning: number[];
  rawToRunning: number[];
  runtimeToExit: number[];
  cliToExit: number[];
}

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const startedAt = performance.now();
  await work();
  return performance.now() - startedAt;
}

// The same environment as the runtime's client: a DOCKER_HOST of the caller's shell would point elsewhere.
export const cli = (args: string[]) => execFileAsync(DOCKER_CLI, args, { env: { ...process.env, DOCKER_HOST: undefined, DOCKER_CONTEXT: undefined } });

async function runtimeRound(runtime: ContainerRuntime, samples: Samples | undefined): Promise<void> {
  const request = { kind: 'job' as const, id: randomUUID().slice(0, 12), project: 'bench', image: IMAGE, command: ['true'] };
  let containerId = '';
  const toRunning = await timed(async () => (containerId = (await runtime.start(request)).id));
  const toExit = toRunning + (await timed(async () => {
    await runtime.wait(containerId);
    await runtime.remove(containerId);
  }));
  samples?.runtimeToRunning.push(toRunning);
  samples?.runtimeToExit.push(toExit);
}

async function cliRound(label: string, samples: Samples | undefined): Promise<void> {
  const toRunning = await timed(() => cli(['run', '-d', '--rm', '--label', label, IMAGE, 'true']));
  const toExit = await timed(() => cli(['run', '--rm', '--label', label, IMAGE, 'true']));
  samples?.cliToRunning.push(toRunning);
  samples?.cliToExit.push(toExit);
}

async function rawRound(docker: Dockerode, label: string, samples: Samples | undefined): Promise<void> {
  let container: Dockerode.Container | undefined;
  const toRunning = await timed(async () => {
    container = await docker.createContainer({ Image: IMAGE, Cmd: ['true'], Labels: { [label.split('=')[0]!]: label.split('=')[1]! } });
    await container.start();
  });
  await container!.remove({ force: true });
  samples?.rawToRunning.push(toRunning);
}

export async function removeBenchContainers(docker: Dockerode, labels: string[]): Promise<void> {
  const listed = await docker.listContainers({ all: true, filters: { label: labels } });
  await Promise.all(listed.map((container) => docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined)));
}

export const overheadPercent = (value: number, baseline: number) => Math.round(((value - baseline) / baseline) * 1000) / 10;

/** A client for the local engine, once it answers and has the bench image. */
export async function engineWithImage(): Promise<Dockerode> {
  const docker = createDockerClient();
  if (!(await dockerAvailable(docker))) throw new Error('no Docker engine answers: start one with `bash scripts/docker-up.sh`');
  await docker.getImage(IMAGE).inspect().catch(() => {
    throw new Error(`image ${IMAGE} is missing: run \`bash scripts/test-images.sh\``);
  });
  return docker;
}

export async function benchContainers(): Promise<BenchResult> {
  const docker = await engineWithImage();
  const instanceId = `bench-${randomUUID().slice(0, 8)}`;
  const label = `${BENCH_LABEL}=${instanceId}`;
  const runtime = createContainerRuntime({ docker, instanceId, log: createLog('silent') });
  const samples: Samples = { runtimeToRunning: [], cliToRunning: [], rawToRunning: [], runtimeToExit: [], cliToExit: [] };
  const rounds = [
    (measured: Samples | undefined) => runtimeRound(runtime, measured),
    (measured: Samples | undefined) => cliRound(label, measured),
    (measured: Samples | undefined) => rawRound(docker, label, measured),
  ];
  try {
    for (let round = 0; round < WARMUP_ROUNDS + RUNS; round++) {
      const measured = round < WARMUP_ROUNDS ? undefined : samples;
      for (let step = 0; step < rounds.length; step++) await rounds[(round + step) % rounds.length]!(measured);
    }
  } finally {
    await removeBenchContainers(docker, [label]);
    await removeBenchContainers(docker, [`dev.trainyard.instance=${instanceId}`]);
  }

  const runtimeToRunning = median(samples.runtimeToRunning);
  const cliToRunning = median(samples.cliToRunning);
  const runtimeToExit = median(samples.runtimeToExit);
  const cliToExit = median(samples.cliToExit);
  return {
    name: 'containers',
    figures: [
      { label: 'to running: runtime.start (create + start)', value: runtimeToRunning, unit: 'ms', baseline: cliToRunning, samples: samples.runtimeToRunning },
      { label: 'baseline: docker run -d --rm', value: cliToRunning, unit: 'ms', samples: samples.cliToRunning },
      { label: 'baseline: dockerode create + start, no options', value: median(samples.rawToRunning), unit: 'ms', samples: samples.rawToRunning },
      { label: 'to running: overhead over docker run -d', value: overheadPercent(runtimeToRunning, cliToRunning), unit: '%', target: '<= 10 %' },
      { label: 'run `true` to exit and removal: runtime', value: runtimeToExit, unit: 'ms', baseline: cliToExit, samples: samples.runtimeToExit },
      { label: 'baseline: docker run --rm', value: cliToExit, unit: 'ms', samples: samples.cliToExit },
      { label: 'run to exit: overhead over docker run --rm', value: overheadPercent(runtimeToExit, cliToExit), unit: '%', target: '<= 10 %' },
    ],
  };
}
