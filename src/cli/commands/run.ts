import { InvalidArgumentError, type Command } from 'commander';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBytes, parseByteSize } from '../../lib/byte-size.ts';
import type { JobJson } from '../../scheduler/job-json.ts';
import type { SnapshotInfo, SnapshotLimits } from '../../scheduler/snapshot-store.ts';
import { streamingClientFromEnvironment, type StreamingClient } from '../api-stream.ts';
import { CliError, EXIT } from '../cli-error.ts';
import { exitCodeOf, followJob } from '../follow-job.ts';
import { printJson } from '../output.ts';
import { listFolder, packFolder } from '../pack.ts';
import { progressBar } from '../progress.ts';

interface RunOptions {
  gpus?: number;
  gpuMemory?: string;
  cpus?: number;
  memory?: string;
  image?: string;
  project?: string;
  env: string[];
  name?: string;
  priority?: number;
  timeLimit?: string;
  retries?: number;
  preemptible?: boolean;
  mount: JobMount[];
  cap: string[];
  privileged?: boolean;
  hostNetwork?: boolean;
  maxSnapshot?: number;
  follow: boolean;
  json?: boolean;
}

const wholeNumber = (flag: string) => (text: string) => {
  if (!/^-?\d+$/.test(text)) throw new InvalidArgumentError(`${flag} takes a whole number, got "${text}"`);
  return Number(text);
};
const number = (flag: string) => (text: string) => {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new InvalidArgumentError(`${flag} takes a number, got "${text}"`);
  return Number(text);
};
const size = (text: string) => {
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new InvalidArgumentError(`"${text}" is not a size like 100MB`);
  return bytes;
};
const collect = (value: string, previous: string[]) => [...previous, value];

interface JobMount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

/** `HOST:CONTAINER`, read-only, or `HOST:CONTAINER:rw`, as `docker run -v` writes them; the server checks the paths. */
const mount = (text: string, previous: JobMount[]): JobMount[] => {
  const [hostPath, containerPath, mode, ...rest] = text.split(':');
  if (!hostPath || !containerPath || rest.length > 0 || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw new InvalidArgumentError(`--mount takes HOST:CONTAINER, HOST:CONTAINER:ro or HOST:CONTAINER:rw, got "${text}"`);
  }
  return [...previous, { hostPath, containerPath, readOnly: mode !== 'rw' }];
};

/** `NAME=value`, or `NAME` alone for the value it has here, as `docker run -e` reads them. */
function environmentOf(pairs: string[], local: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    const name = equals < 0 ? pair : pair.slice(0, equals);
    const value = equals < 0 ? local[pair] : pair.slice(equals + 1);
    if (value === undefined) throw new CliError(`--env ${pair}: ${pair} is not set here; write ${pair}=value`, EXIT.usage);
    env[name] = value;
  }
  return env;
}

/** Packs `folder` within the server's limit and uploads it; undefined when there is nothing to pack. */
async function uploadFolder(client: StreamingClient, folder: string, maxSnapshot: number | undefined): Promise<SnapshotInfo | undefined> {
  const list = listFolder(folder);
  for (const skipped of list.skipped) process.stderr.write(`yard: not packed: ${skipped}\n`);
  if (list.paths.length === 0) return undefined;
  const { maxBytes } = await client.call<SnapshotLimits>('GET', '/api/v1/snapshots/limits');
  const limit = Math.min(maxBytes, maxSnapshot ?? Infinity);
  const scratch = mkdtempSync(join(tmpdir(), 'yard-run-'));
  try {
    const archive = join(scratch, 'snapshot.tar.gz');
    const packing = progressBar(`packing ${list.paths.length} files`, list.bytes);
    const packed = await packFolder(folder, list, archive, limit, packing.advance).finally(packing.done);
    const uploading = progressBar('uploading', packed);
    const body = ReadableStream.from(
      (async function* () {
        for await (const chunk of createReadStream(archive) as AsyncIterable<Buffer>) {
          uploading.advance(chunk.length);
          yield chunk;
        }
      })(),
    );
    const response = await client
      .open('/api/v1/snapshots', { method: 'POST', headers: { 'Content-Type': 'application/gzip', 'Content-Length': String(packed) }, body })
      .finally(uploading.done);
    const snapshot = (await response.json()) as SnapshotInfo;
    process.stderr.write(`Uploaded ${snapshot.files} files (${formatBytes(packed)} packed, ${formatBytes(snapshot.bytes)} unpacked)\n`);
    return snapshot;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function runCommand(program: Command): void {
  program
    .command('run')
    .description('pack this folder, run a command on the server as a job, and follow its output until it ends')
    .argument('<command...>', 'the program and its arguments, after --')
    .option('--gpus <n>', 'whole GPUs, never shared', wholeNumber('--gpus'))
    .option('--gpu-memory <size>', 'GPU memory on one shared GPU instead, e.g. 20GB')
    .option('--cpus <n>', 'CPUs, e.g. 4 or 0.5', number('--cpus'))
    .option('--memory <size>', 'memory limit, e.g. 16GB')
    .option('--image <image>', "the Docker image (default: the server's defaultJobImage)")
    .option('--project <name>', 'the project the job belongs to', 'default')
    .option('--env <NAME=value>', 'an environment variable for the job (repeatable; NAME alone passes its value here)', collect, [])
    .option('--name <name>', 'a name for the job (default: the command)')
    .option('--priority <n>', 'higher runs first, -100 to 100', wholeNumber('--priority'))
    .option('--time-limit <duration>', 'stop the job after this long, e.g. 2h')
    .option('--retries <n>', 'start a failed job again up to n times', wholeNumber('--retries'))
    .option('--preemptible', 'a higher-priority job may stop this one (it is queued again)')
    .option('--mount <host:container[:rw]>', "a host folder in the container, read-only unless :rw (repeatable; the project's security policy must allow it)", mount, [])
    .option('--cap <capability>', "a Linux capability to add, e.g. SYS_PTRACE (repeatable; the policy must allow it)", collect, [])
    .option('--privileged', "run privileged (the policy must allow it)")
    .option('--host-network', "use the host's network (the policy must allow it)")
    .option('--max-snapshot <size>', "refuse to upload more than this (the server's limit is the most)", size)
    .option('--no-follow', 'print the job id and return once it is queued')
    .option('--json', 'print the queued job as JSON and return')
    .passThroughOptions()
    .addHelpText('after', '\nExamples:\n  yard run --gpus 1 -- python train.py --epochs 3\n  yard run --gpu-memory 20GB --env WANDB_API_KEY -- python finetune.py')
    .action(async (command: string[], options: RunOptions) => {
      const client = streamingClientFromEnvironment();
      const snapshot = await uploadFolder(client, process.cwd(), options.maxSnapshot);
      const { job } = await client.call<{ job: JobJson }>('POST', '/api/v1/jobs', {
        project: options.project,
        command,
        env: environmentOf(options.env, process.env),
        ...(options.gpus !== undefined && { gpus: options.gpus }),
        ...(options.gpuMemory !== undefined && { gpuMemory: options.gpuMemory }),
        ...(options.cpus !== undefined && { cpus: options.cpus }),
        ...(options.memory !== undefined && { memory: options.memory }),
        ...(options.image !== undefined && { image: options.image }),
        ...(options.name !== undefined && { name: options.name }),
        ...(options.priority !== undefined && { priority: options.priority }),
        ...(options.timeLimit !== undefined && { timeLimit: options.timeLimit }),
        ...(options.retries !== undefined && { retries: options.retries }),
        ...(options.preemptible && { preemptible: true }),
        ...(options.mount.length > 0 && { mounts: options.mount }),
        ...(options.cap.length > 0 && { capabilities: options.cap }),
        ...(options.privileged && { privileged: true }),
        ...(options.hostNetwork && { hostNetwork: true }),
        ...(snapshot && { snapshotId: snapshot.id }),
      });
      if (options.json) return printJson({ job });
      if (!options.follow) {
        process.stdout.write(`${job.id}\n`);
        process.stderr.write(`Job ${job.id} is ${job.state}: follow it with \`yard logs -f ${job.id}\`\n`);
        return;
      }
      const end = await followJob(client, job.id, () =>
        process.stderr.write(`Job ${job.id} is ${job.state} (${job.reason}); following its output, Ctrl-C to stop following\n`),
      );
      if (!end) {
        process.stderr.write(`\nStopped following job ${job.id}; it goes on.\n  yard logs -f ${job.id}   follows it again\n  yard cancel ${job.id}    cancels it\n`);
        process.exitCode = 130;
        return;
      }
      const why = end.reason || (end.exitCode === null ? '' : `exit code ${end.exitCode}`);
      process.stderr.write(`Job ${job.id} ${end.state.replace('_', ' ')}${why ? `: ${why}` : ''}\n`);
      process.exitCode = exitCodeOf(end);
    });
}
