// Resources that some tests need: a real Docker engine and a Chromium binary.
//
// Contract: present -> returned; absent in CI -> throws, so the test file FAILS (CI must never skip these
// tests); absent locally -> undefined, and the test file skips with `describe.skipIf(!resource)`.
// Call them with top-level await in the test file:
//   const docker = await requireDocker();
//   describe.skipIf(!docker)('...', () => { ... });
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type Dockerode from 'dockerode';
import { createDockerClient, dockerAvailable } from '../../src/runtime/docker-client.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const PROMTOOL_PATH = '/usr/bin/promtool';

/** True when running in CI: `CI` is set to anything but '', 'false' or '0'. */
export function isCI(): boolean {
  const value = (process.env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

function missing(what: string, detail: string, fix: string): undefined {
  if (isCI()) {
    throw new Error(`${what} is required in CI: ${detail}. ${fix}`);
  }
  return undefined;
}

/** A client for an engine that answers, or undefined (locally) / a thrown Error (in CI). */
export async function requireDocker(): Promise<Dockerode | undefined> {
  const docker = createDockerClient();
  if (await dockerAvailable(docker)) {
    return docker;
  }
  const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  return missing(
    'Docker engine',
    `no engine answered at ${where}`,
    'Start one with `bash scripts/docker-up.sh` (and build the test images with `bash scripts/test-images.sh`).',
  );
}

/** `path` when it is an executable file, or undefined (locally) / a thrown Error (in CI) saying how to install it. */
function executableAt(path: string, what: string, install: string): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return missing(what, `${path} is missing or not executable`, `Install it with \`${install}\`.`);
  }
}

/** Path of an executable Chromium, or undefined (locally) / a thrown Error (in CI). */
export function requireChromium(): string | undefined {
  return executableAt(CHROMIUM_PATH, 'Chromium', 'apt-get install -y --no-install-recommends chromium');
}

/** A python3 for the client-protocol tests, or undefined (locally) / a thrown Error (in CI). */
export function requirePython(): string | undefined {
  const found = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (found.status === 0) return 'python3';
  return missing('python3', 'no python3 on the PATH', 'Install it with `apt-get install -y python3`.');
}

/** Path of Prometheus' promtool (Debian's `prometheus` package), or undefined (locally) / a thrown Error (in CI). */
export function requirePromtool(): string | undefined {
  return executableAt(PROMTOOL_PATH, 'promtool', 'apt-get install -y --no-install-recommends prometheus');
}
