import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createNvidiaSmiRunner, NvidiaSmiError } from '../../src/gpu/nvidia-smi-runner.ts';
import { fakeExecutable } from './gpu-fixtures.ts';

const DRIVER_DOWN = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.";

async function failureOf(promise: Promise<unknown>): Promise<NvidiaSmiError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(NvidiaSmiError);
  return error as NvidiaSmiError;
}

describe('the nvidia-smi runner', () => {
  it('passes arguments as they are, with no shell to interpret them', async () => {
    const { binary, dir } = fakeExecutable('for arg in "$@"; do echo "<$arg>"; done');
    const run = createNvidiaSmiRunner({ binary });
    const marker = join(dir, 'should-not-exist');
    expect(await run(['--query-gpu=index,uuid', `$(touch ${marker})`, 'a b'])).toBe(`<--query-gpu=index,uuid>\n<$(touch ${marker})>\n<a b>\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it('says nvidia-smi is missing when the binary does not exist', async () => {
    const error = await failureOf(createNvidiaSmiRunner({ binary: '/nonexistent/nvidia-smi' })(['-L']));
    expect(error.failure).toBe('missing');
    expect(error.message).toBe('/nonexistent/nvidia-smi was not found (is the NVIDIA driver installed?)');
  });

  it.each([
    ['its standard error', `echo "${DRIVER_DOWN}" >&2; exit 9`],
    ['its output when standard error is empty', `echo "${DRIVER_DOWN}"; exit 9`],
  ])('fails with the exit status and %s', async (_name, body) => {
    const { binary } = fakeExecutable(body);
    const error = await failureOf(createNvidiaSmiRunner({ binary })(['--query-gpu=index', '--format=csv']));
    expect(error.failure).toBe('failed');
    expect(error.message).toBe(`${binary} --query-gpu exited with 9: ${DRIVER_DOWN}`);
  });

  it('kills nvidia-smi when it hangs, and runs the next one once it is gone', async () => {
    const { binary } = fakeExecutable('if [ -e "$0.hung" ]; then echo fine; else touch "$0.hung"; exec sleep 30; fi');
    const run = createNvidiaSmiRunner({ binary, timeoutMs: 200 });
    const started = Date.now();
    const error = await failureOf(run(['-L']));
    expect(error.failure).toBe('timeout');
    expect(error.message).toBe(`${binary} did not answer within 0.2 s`);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect.poll(() => run(['-L']).catch(() => 'still stuck'), { timeout: 2_000, interval: 50 }).toBe('fine\n');
  });

  it('starts no other nvidia-smi while one that timed out has not exited', async () => {
    // The shell dies at the kill but its child keeps the output open, as an nvidia-smi stuck in the driver would.
    const { binary } = fakeExecutable('sleep 3; echo late');
    const run = createNvidiaSmiRunner({ binary, timeoutMs: 200 });
    expect((await failureOf(run(['-L']))).failure).toBe('timeout');
    const second = await failureOf(run(['-L']));
    expect(second.failure).toBe('timeout');
    expect(second.message).toContain('has still not exited; not starting another');
  });
});
