import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../bench/processes.ts';
import type { JobJson } from '../../src/scheduler/job-json.ts';
import type { JobLogLine } from '../../src/scheduler/job-logs.ts';
import { requireDocker } from '../helpers/environment.ts';
import { ROOT, waitForUrl } from '../helpers/processes.ts';
import { removeInstanceContainers, requireImage, TEST_IMAGE } from '../runtime/runtime-fixtures.ts';
import { AWAIT_GO } from './scheduler-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

const PASSWORD = 'kill-nine-password-1';

describe.skipIf(!docker)('an appliance killed with SIGKILL mid-job', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'trainyard-sigkill-'));
  const children: ChildProcess[] = [];
  let url = '';

  async function startAppliance(port: number): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['src/main.ts'], {
      cwd: ROOT,
      stdio: 'ignore',
      env: {
        ...process.env,
        TRAINYARD_DATA: dataDir,
        TRAINYARD_PORT: String(port),
        TRAINYARD_HOST: '127.0.0.1',
        TRAINYARD_LOG_LEVEL: 'warn',
        TRAINYARD_CONFIG: '',
        TRAINYARD_ADMIN_PASSWORD: PASSWORD,
        TRAINYARD_GPUS: 'fake:2xH100-80GB',
      },
    });
    children.push(child);
    url = `http://127.0.0.1:${port}`;
    await waitForUrl(`${url}/health`);
    return child;
  }

  const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${url}/api/v1${path}`, {
      ...init,
      headers: { Authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, 'Content-Type': 'application/json' },
      signal: AbortSignal.timeout(5_000),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const jobUntil = (id: number, check: (job: JobJson) => boolean) =>
    vi.waitFor(
      async () => {
        const { job } = (await api<{ job: JobJson }>(`/jobs/${id}`)).body;
        expect(check(job), JSON.stringify(job)).toBe(true);
        return job;
      },
      { timeout: 20_000, interval: 100 },
    );

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await removeInstanceContainers(docker as Dockerode, [readFileSync(join(dataDir, 'instance-id'), 'utf8').trim()]).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('adopts the running container after a restart and records the job’s real exit code', { timeout: 60_000 }, async () => {
    await requireImage(docker as Dockerode);
    const first = await startAppliance(await freePort());
    const script = `echo before the kill; ${AWAIT_GO}; echo after the restart; exit 9`;
    const submitted = await api<{ job: JobJson }>('/jobs', { method: 'POST', body: JSON.stringify({ image: TEST_IMAGE, command: ['sh', '-c', script], gpus: 1 }) });
    expect(submitted.status).toBe(201);
    const id = submitted.body.job.id;
    await jobUntil(id, (job) => job.state === 'running');
    const stdout = async () => (await api<{ lines: JobLogLine[] }>(`/jobs/${id}/logs`)).body.lines.filter((line) => line.stream === 'stdout').map((line) => line.text);
    await vi.waitFor(async () => expect(await stdout()).toContain('before the kill'), { timeout: 10_000 });

    const exited = new Promise((resolve) => first.once('exit', resolve));
    first.kill('SIGKILL');
    await exited;

    await startAppliance(await freePort());
    expect((await jobUntil(id, () => true)).state).toBe('running');
    writeFileSync(join(dataDir, 'outputs', String(id), 'go'), '');
    const finished = await jobUntil(id, (job) => job.state === 'failed');
    expect(finished).toMatchObject({ exitCode: 9, reason: 'exit code 9', attempts: 1 });
    expect(await stdout()).toEqual(['before the kill', 'after the restart']);
  });
});
