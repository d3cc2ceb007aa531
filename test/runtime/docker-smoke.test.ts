import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type Dockerode from 'dockerode';
import { requireDocker } from '../helpers/environment.ts';

const TEST_IMAGE = 'trainyard-test/busybox:1';
const LABELS = { 'trainyard.test': '1' };

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

function engine(): Dockerode {
  if (!docker) throw new Error('unreachable: suite runs only with an engine');
  return docker;
}

async function requireImage(name: string): Promise<void> {
  try {
    await engine().getImage(name).inspect();
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404) {
      throw new Error(`test image ${name} is missing: run \`bash scripts/test-images.sh\``);
    }
    throw error;
  }
}

/** Splits Docker's multiplexed log stream (8-byte header: stream, 0, 0, 0, uint32 BE length) into text. */
function demuxLogs(buffer: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const stream = buffer[offset];
    const length = buffer.readUInt32BE(offset + 4);
    const payload = buffer.subarray(offset + 8, offset + 8 + length);
    if (stream === 2) err.push(payload);
    else out.push(payload);
    offset += 8 + length;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/** Runs `cmd` in the test image to completion; the container is always removed. */
async function runToExit(cmd: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  await requireImage(TEST_IMAGE);
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
    return { exitCode: result.StatusCode, ...demuxLogs(logs) };
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
