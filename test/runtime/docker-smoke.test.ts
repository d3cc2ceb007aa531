import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type Dockerode from 'dockerode';
import { readLogLines } from '../../src/runtime/log-lines.ts';
import { requireDocker } from '../helpers/environment.ts';
import { requireImage, TEST_IMAGE } from './runtime-fixtures.ts';

const LABELS = { 'trainyard.test': '1' };

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

function engine(): Dockerode {
  if (!docker) throw new Error('unreachable: suite runs only with an engine');
  return docker;
}

/** Docker's multiplexed log stream as the text of each stream. */
async function demuxLogs(buffer: Buffer): Promise<{ stdout: string; stderr: string }> {
  const text = { stdout: '', stderr: '' };
  for await (const line of readLogLines((async function* () { yield buffer; })())) text[line.stream] += `${line.text}\n`;
  return text;
}

/** Runs `cmd` in the test image to completion; the container is always removed. */
async function runToExit(cmd: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  await requireImage(engine());
  const container = await engine().createContainer({
    Image: TEST_IMAGE,
    Cmd: cmd,
    Labels: LABELS,
    HostConfig: { AutoRemove: false, NetworkMode: 'none' },
  });
  try {
    await container.start();
    const result = (await container.wait()) as { StatusCode: number };
    const logs = await container.logs({ stdout: true, stderr: true, follow: false });
    return { exitCode: result.StatusCode, ...(await demuxLogs(logs)) };
  } finally {
    await container.remove({ force: true });
  }
}

describe.skipIf(!docker)('docker engine (smoke)', () => {
  it('answers ping and reports its version', async () => {
    const pong = await engine().ping();
    expect(String(pong)).toBe('OK');
    const version = await engine().version();
    expect(version.ApiVersion).toMatch(/^\d+\.\d+$/);
    const [major = 0, minor = 0] = version.ApiVersion.split('.').map(Number);
    expect(major > 1 || (major === 1 && minor >= 41)).toBe(true);
  });

  it('runs a command in the local busybox image and returns its output', async () => {
    const marker = `trainyard-${randomUUID()}`;
    const result = await runToExit(['echo', marker]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(marker);
    expect(result.stderr).toBe('');
  });

  it('reports a nonzero exit code', async () => {
    const result = await runToExit(['sh', '-c', 'echo oops >&2; exit 3']);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('oops');
  });
});
