import { randomUUID } from 'node:crypto';
import type Dockerode from 'dockerode';
import { createLog } from '../../src/lib/log.ts';
import { createContainerRuntime, type ContainerRuntime, type ContainerRuntimeDeps } from '../../src/runtime/container-runtime.ts';
import type { ContainerRequest } from '../../src/runtime/container-request.ts';
import { LABELS } from '../../src/runtime/workload-labels.ts';

/** Built by scripts/test-images.sh. */
export const TEST_IMAGE = 'trainyard-test/busybox:1';

export async function requireImage(docker: Dockerode, name = TEST_IMAGE): Promise<void> {
  try {
    await docker.getImage(name).inspect();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) {
      throw new Error(`test image ${name} is missing: run \`bash scripts/test-images.sh\``);
    }
    throw error;
  }
}

/** A fresh instance id per test file, so files running side by side (and other appliances) never meet. */
export const testInstanceId = () => `test-${randomUUID().slice(0, 8)}`;

/** A unique workload id: container names are global on the engine. */
export const workloadId = () => randomUUID().slice(0, 12);

export function createTestRuntime(docker: Dockerode, overrides: Partial<ContainerRuntimeDeps> = {}): ContainerRuntime {
  return createContainerRuntime({ docker, instanceId: testInstanceId(), log: createLog('silent'), ...overrides });
}

/** A job request in the test image; `command` runs under sh -c. */
export function shellJob(script: string, overrides: Partial<ContainerRequest> = {}): ContainerRequest {
  return { kind: 'job', id: workloadId(), project: 'runtime-tests', image: TEST_IMAGE, command: ['sh', '-c', script], ...overrides };
}

/** Removes every container an instance created; for afterAll, whatever the tests left behind. */
export async function removeInstanceContainers(docker: Dockerode, instanceIds: string[]): Promise<void> {
  for (const instanceId of instanceIds) {
    const listed = await docker.listContainers({ all: true, filters: { label: [`${LABELS.instance}=${instanceId}`] } });
    await Promise.all(listed.map((container) => docker.getContainer(container.Id).remove({ force: true })));
  }
}

export async function collectLines(lines: AsyncIterable<{ stream: string; text: string }>): Promise<Array<{ stream: string; text: string }>> {
  const out: Array<{ stream: string; text: string }> = [];
  for await (const { stream, text } of lines) out.push({ stream, text });
  return out;
}
