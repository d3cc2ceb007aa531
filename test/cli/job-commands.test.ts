import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppliance, type Appliance } from '../../src/appliance.ts';
import { loadConfig } from '../../src/config.ts';
import type { JobJson } from '../../src/scheduler/job-json.ts';
import { jobSubmissionSchema } from '../../src/scheduler/job-request.ts';
import { requireDocker } from '../helpers/environment.ts';
import { ROOT, finished, type Finished } from '../helpers/processes.ts';

const temp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const SERVER_LIMIT = 256 * 1024;
const dataDir = temp('trainyard-cli-jobs-');
let appliance: Appliance;
let env: NodeJS.ProcessEnv;

/** Runs `yard` in `cwd` as the signed-in admin, the child handed over while it runs. */
function start(args: string[], cwd = ROOT, token = env.TRAINYARD_TOKEN) {
  return spawn(process.execPath, [join(ROOT, 'src/cli/yard.ts'), ...args], { cwd, env: { ...process.env, ...env, TRAINYARD_TOKEN: token }, stdio: 'pipe' });
}
const yard = (args: string[], cwd?: string, token?: string): Promise<Finished> => finished(start(args, cwd, token));

function folderOf(files: Record<string, string | Buffer>, links: Record<string, string> = {}): string {
  const folder = temp('yard-run-folder-');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(folder, path, '..'), { recursive: true });
    writeFileSync(join(folder, path), content);
  }
  for (const [path, target] of Object.entries(links)) symlinkSync(target, join(folder, path));
  return folder;
}

const admin = () => appliance.app.users.get('ops');
const snapshotCount = () => readdirSync(join(dataDir, 'snapshots')).filter((name) => /^[a-f0-9]{32}$/.test(name)).length;
/** A job that stays queued: this appliance's scheduler is stopped, so nothing is ever placed. */
const queue = (user = admin(), fields: Record<string, unknown> = {}) =>
  appliance.app.jobs.submit(user, jobSubmissionSchema.parse({ image: 'busybox', command: ['true'], gpus: 1, ...fields }));

beforeAll(async () => {
  appliance = await startAppliance(
    loadConfig(
      { dataDir, port: 0, logLevel: 'silent', gpus: 'fake:4xH100-80GB', adminUsername: 'ops', adminPassword: 'ops-password-1', snapshotMaxBytes: SERVER_LIMIT },
      {},
    ),
  );
  await appliance.app.scheduler.stop();
  const { secret } = appliance.app.tokens.create(admin(), { name: 'cli test' }, { actor: 'test' });
  env = { XDG_CONFIG_HOME: temp('trainyard-cli-config-'), TRAINYARD_URL: appliance.url, TRAINYARD_TOKEN: secret };
});
afterAll(async () => appliance?.close());

describe('yard run', () => {
  it('packs the folder without what .git, .gitignore and .yardignore leave out, and queues the job', async () => {
    const folder = folderOf(
      {
        'train.py': 'print("training")\n',
        '.gitignore': 'secret.env\n*.ckpt\n',
        'secret.env': 'TOKEN=hunter2\n',
        'model.ckpt': 'weights',
        '.yardignore': 'data/\n',
        'data/big.bin': randomBytes(1024),
        '.git/HEAD': 'ref: refs/heads/main\n',
        'sub/.gitignore': '!keep.ckpt\nlocal.txt\n',
        'sub/keep.ckpt': 'kept',
        'sub/local.txt': 'mine',
        'sub/code.py': 'pass\n',
      },
      { latest: 'train.py', outside: '/etc/passwd' },
    );
    const result = await yard(['run', '--no-follow', '--gpus', '1', '--env', 'EPOCHS=3', '--name', 'smoke', '--', 'python', 'train.py', '--lr', '3e-4'], folder);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('not packed: outside (a link to /etc/passwd, outside the folder)');
    expect(result.stderr).toMatch(/Uploaded 6 files/);
    expect(result.stderr).toContain('Job 1 is queued: follow it with `yard logs -f 1`');
    const job = appliance.app.jobs.byId(Number(result.stdout.trim()))!;
    expect(job).toMatchObject({ name: 'smoke', command: ['python', 'train.py', '--lr', '3e-4'], gpus: 1, env: { EPOCHS: '3' }, image: 'trainyard/python:bookworm' });
    const unpacked = readdirSync(appliance.app.snapshots.folderOf(job.snapshotId!), { recursive: true }).map(String).sort();
    expect(unpacked).toEqual(['.gitignore', '.yardignore', 'latest', 'sub', 'sub/.gitignore', 'sub/code.py', 'sub/keep.ckpt', 'train.py']);
  });

  it('--json prints the queued job, and a folder with nothing to pack sends no snapshot', async () => {
    const result = await yard(['run', '--json', '--gpu-memory', '20GB', '--memory', '8GB', '--image', 'python:3.12', '--preemptible', '--priority', '-5', '--', 'nvidia-smi'], folderOf({ '.gitignore': '*\n' }));
    expect(result.code, result.stderr).toBe(0);
    const { job } = JSON.parse(result.stdout) as { job: JobJson };
    expect(job).toMatchObject({ state: 'queued', image: 'python:3.12', command: ['nvidia-smi'], snapshotId: null, preemptible: true, priority: -5, resources: { gpus: 0, gpuMemory: 20 * 2 ** 30, memory: 8 * 2 ** 30 } });
  });

  it('refuses a folder over the limit before uploading anything', async () => {
    const folder = folderOf({ 'weights.bin': randomBytes(SERVER_LIMIT + 1024), 'train.py': 'pass\n' });
    const before = snapshotCount();
    for (const args of [['run', '--', 'true'], ['run', '--max-snapshot', '1KB', '--', 'true']]) {
      const result = await yard(args, args.includes('--max-snapshot') ? folderOf({ 'small.bin': randomBytes(4096) }) : folder);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/the packed folder would be larger than the limit of (256\.0|1\.0) KB; the largest files are (weights|small)\.bin/);
    }
    expect(snapshotCount()).toBe(before);
  });

  it('Ctrl-C stops following and says how to follow again or cancel; the job goes on', async () => {
    const child = start(['run', '--gpus', '1', '--', 'python', 'train.py'], folderOf({ 'train.py': 'pass\n' }));
    const result = finished(child);
    await new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => chunk.toString().includes('Ctrl-C to stop following') && resolve()));
    child.kill('SIGINT');
    const { code, stderr } = await result;
    const id = Number(/Job (\d+) is queued/.exec(stderr)?.[1]);
    expect(code).toBe(130);
    expect(stderr).toContain(`Stopped following job ${id}; it goes on.\n  yard logs -f ${id}   follows it again\n  yard cancel ${id}    cancels it\n`);
    expect(appliance.app.jobs.byId(id)?.state).toBe('queued');
  });

  it.each([
    ['no command', ['run'], 2, /missing required argument 'command'/],
    ['a GPU count that is not a number', ['run', '--gpus', 'two', '--', 'true'], 2, /--gpus takes a whole number, got "two"/],
    ['an env variable not set here', ['run', '--env', 'YARD_TEST_UNSET_VARIABLE', '--', 'true'], 2, /YARD_TEST_UNSET_VARIABLE is not set here/],
    ['an env name the server refuses', ['run', '--env', '1BAD=x', '--', 'true'], 1, /^yard: env\.1BAD: /m],
    ['more GPUs than the server has', ['run', '--gpus', '8', '--', 'true'], 1, /could never run here: it asks for 8 GPUs, the host has 4/],
    ['a project that does not exist', ['run', '--project', 'nope', '--', 'true'], 1, /project "nope" does not exist/],
    ['a mount that is not HOST:CONTAINER', ['run', '--mount', '/data', '--', 'true'], 2, /--mount takes HOST:CONTAINER/],
    ['a mount the project may not use', ['run', '--mount', '/srv/datasets:/data', '--', 'true'], 3, /does not allow host path \/srv\/datasets/],
    ['a capability the project may not add', ['run', '--cap', 'SYS_PTRACE', '--privileged', '--', 'true'], 3, /does not allow privileged mode, capability SYS_PTRACE/],
  ])('exits with a clear message on %s', async (_name, args, code, message) => {
    const result = await yard(args, folderOf({}));
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
  });
});

describe('yard jobs, logs and cancel', () => {
  it('jobs lists your jobs as a table or JSON, and --all everyone\'s', async () => {
    const mine = queue(admin(), { name: 'mine', gpus: 2 });
    const hers = queue(await appliance.app.users.create({ username: 'mia', password: 'mia-password-1', displayName: 'Mia' }, { actor: 'test' }), { name: 'hers' });
    const listed = JSON.parse((await yard(['jobs', '--json'])).stdout) as { jobs: JobJson[] };
    expect(listed.jobs[0]).toMatchObject({ id: mine.id, name: 'mine', user: 'ops', resources: { gpus: 2 } });
    expect(listed.jobs.map((job) => job.id)).not.toContain(hers.id);
    const all = JSON.parse((await yard(['jobs', '--all', '--state', 'queued', '--json'])).stdout) as { jobs: JobJson[] };
    expect(all.jobs.map((job) => job.id)).toContain(hers.id);
    const table = await yard(['jobs', '--limit', '1']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATE\s+NAME\s+GPUS\s+USER\s+WAITED\s+RAN$/);
    expect(table.stdout.split('\n')[1]).toMatch(new RegExp(`^${mine.id}\\s+queued\\s+mine\\s+2\\s+ops\\s+\\d+s\\s+-$`));
  });

  it('logs prints stdout lines on stdout and the rest on stderr', async () => {
    const { id } = queue();
    const time = Date.now();
    appliance.app.jobLogs.append(id, [
      { stream: 'stdout', time, text: 'epoch 1 loss 0.5' },
      { stream: 'stderr', time, text: 'warning: slow disk' },
      { stream: 'system', time, text: 'container exited with code 0' },
      { stream: 'stdout', time, text: 'done' },
    ]);
    const result = await yard(['logs', String(id)]);
    expect(result).toEqual({ code: 0, stdout: 'epoch 1 loss 0.5\ndone\n', stderr: 'warning: slow disk\n[trainyard] container exited with code 0\n' });
  });

  it('logs -f follows until the job ends, then exits as the job did', async () => {
    const { id } = queue();
    appliance.app.jobLogs.append(id, [{ stream: 'stdout', time: Date.now(), text: 'step 1' }]);
    const child = start(['logs', '-f', String(id)]);
    const result = finished(child);
    await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('step 1') && resolve()));
    appliance.app.jobLogs.append(id, [{ stream: 'stderr', time: Date.now(), text: 'still waiting' }]);
    appliance.app.jobs.cancel(admin(), id);
    expect(await result).toEqual({ code: 130, stdout: 'step 1\n', stderr: 'still waiting\n' });
  });

  it('cancel cancels a queued job, and says so when it has already finished', async () => {
    const { id } = queue();
    const first = await yard(['cancel', String(id)]);
    expect(first).toMatchObject({ code: 0, stderr: `Cancelled job ${id}\n` });
    expect(appliance.app.jobs.byId(id)?.state).toBe('cancelled');
    const again = await yard(['cancel', String(id)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`yard: job ${id} has already finished (cancelled)\n`);
  });

  it.each([
    ['a job id that is not one', ['logs', 'abc'], 2, /"abc" is not a job id/],
    ['a job that does not exist', ['cancel', '999999'], 1, /job 999999 does not exist/],
    ['following a job that does not exist', ['logs', '-f', '999999'], 1, /job 999999 does not exist/],
    ['a state that does not exist', ['jobs', '--state', 'sleeping'], 1, /"sleeping" is not a job state/],
  ])('exits with a clear message on %s', async (_name, args, code, message) => {
    const result = await yard(args);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
  });
});

const docker = await requireDocker();

describe.skipIf(!docker)('yard run, end to end', () => {
  let running: Appliance;
  beforeAll(async () => {
    // An appliance whose scheduler runs: yard talks to it from here on.
    running = await startAppliance(loadConfig({ dataDir: temp('trainyard-cli-run-'), port: 0, logLevel: 'silent', gpus: 'none', adminUsername: 'ops', adminPassword: 'ops-password-1' }, {}));
    const { secret } = running.app.tokens.create(running.app.users.get('ops'), { name: 'cli test' }, { actor: 'test' });
    env = { ...env, TRAINYARD_URL: running.url, TRAINYARD_TOKEN: secret };
  });
  afterAll(async () => running?.close());

  it('runs the command in a container and exits with its exit code, its output split as it was written', async () => {
    const folder = folderOf({ 'job.sh': 'echo "out from $(cat /workspace/job.sh | wc -l) lines"\necho "err" >&2\nexit 3\n' });
    const result = await yard(['run', '--image', 'trainyard-test/busybox:1', '--', 'sh', '/workspace/job.sh'], folder);
    expect(result.stdout).toBe('out from 3 lines\n');
    expect(result.stderr).toMatch(/^err$/m);
    expect(result.stderr).toMatch(/^Job \d+ failed: .*exit code 3/m);
    expect(result.code).toBe(3);
  });
});
