import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerRequest } from '../../src/runtime/container-request.ts';
import type { ContainerRuntime } from '../../src/runtime/container-runtime.ts';
import { ContainerStartFailed } from '../../src/runtime/runtime-errors.ts';
import { LABELS } from '../../src/runtime/workload-labels.ts';
import { requireDocker } from '../helpers/environment.ts';
import { createTestRuntime, removeInstanceContainers, requireImage, shellJob, testInstanceId } from './runtime-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

describe.skipIf(!docker)('containers that cannot start leave nothing behind', { concurrent: true }, () => {
  const engine = docker as Dockerode;
  const instanceId = testInstanceId();
  let runtime: ContainerRuntime;

  /** Every container of the workload on the engine, whoever's (`docker ps -a --filter name=...`). */
  async function containersNamed(request: ContainerRequest) {
    const name = `trainyard-${request.kind}-${request.id}`;
    const listed = await engine.listContainers({ all: true, filters: { name: [name] } });
    return listed.filter((container) => container.Names.includes(`/${name}`));
  }

  async function ownedFor(request: ContainerRequest) {
    return (await runtime.listOwned()).filter((container) => container.workload.id === request.id);
  }

  beforeAll(async () => {
    await requireImage(engine);
    runtime = createTestRuntime(engine, { instanceId, mountRoots: ['/srv/trainyard/outputs'] });
  });

  afterAll(async () => {
    await removeInstanceContainers(engine, [instanceId]);
  });

  it('real GPUs on an engine without the NVIDIA runtime: the start fails with Docker\'s words and the container is removed', async () => {
    const request = shellJob('nvidia-smi', { gpus: { uuids: ['GPU-6f1b0c2e-0000-0000-0000-000000000001'], simulated: false } });
    const error = await runtime.start(request).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ContainerStartFailed);
    expect((error as ContainerStartFailed).dockerMessage).toMatch(/could not select device driver "nvidia" with capabilities: \[\[gpu\]\]/);
    expect((error as Error).message).toMatch(new RegExp(`^container trainyard-job-${request.id} could not start: could not select device driver`));
    expect(await ownedFor(request)).toEqual([]);
    expect(await containersNamed(request)).toEqual([]);
  });

  it('an image the engine does not have: a 400 naming the image, nothing created', async () => {
    const request = shellJob('true', { image: 'trainyard-test/does-not-exist:1' });
    await expect(runtime.start(request)).rejects.toMatchObject({
      status: 400,
      code: 'IMAGE_NOT_FOUND',
      message: 'image "trainyard-test/does-not-exist:1" is not on the Docker engine (pulling is off: build or `docker load` it on this host)',
    });
    expect(await containersNamed(request)).toEqual([]);
  });

  it('with pulling allowed, a pull that fails or takes too long is reported with the image, within the pull timeout', async () => {
    const pulling = createTestRuntime(engine, { instanceId, pullImages: true, pullTimeoutMs: 5_000 });
    const request = shellJob('true', { image: 'trainyard-test/does-not-exist:1' });
    const startedAt = performance.now();
    await expect(pulling.start(request)).rejects.toMatchObject({
      status: 400,
      code: 'IMAGE_NOT_FOUND',
      message: expect.stringMatching(/^image "trainyard-test\/does-not-exist:1" is not on the Docker engine and (could not be pulled: .+|pulling it took longer than 5 s)$/),
    });
    expect(performance.now() - startedAt).toBeLessThan(8_000);
    expect(await containersNamed(request)).toEqual([]);
  });

  const refusals: Array<{ name: string; request: Partial<ContainerRequest>; message: RegExp }> = [
    { name: 'privileged mode', request: { privileged: true }, message: /does not allow privileged mode/ },
    { name: 'the host network', request: { network: 'host' }, message: /does not allow the host network/ },
    { name: 'a host path', request: { mounts: [{ hostPath: '/etc', containerPath: '/host-etc', readOnly: true }] }, message: /does not allow host path \/etc/ },
    { name: 'an added capability', request: { capAdd: ['SYS_ADMIN'] }, message: /does not allow capability SYS_ADMIN/ },
  ];
  for (const row of refusals) {
    it(`refuses ${row.name} with a 403 and creates nothing`, async () => {
      const request = shellJob('true', row.request);
      await expect(runtime.start(request)).rejects.toMatchObject({ status: 403, message: expect.stringMatching(row.message) });
      expect(await containersNamed(request)).toEqual([]);
    });
  }

  it('an invalid request is a 400 before Docker is asked', async () => {
    const request = shellJob('true', { env: { 'BAD-NAME': '1' } });
    await expect(runtime.start(request)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/env name "BAD-NAME" is invalid/) });
    expect(await containersNamed(request)).toEqual([]);
  });

  it('what only Docker can judge (more CPUs than the host has) is a 400 with Docker\'s words', async () => {
    const request = shellJob('true', { cpus: 1024 });
    await expect(runtime.start(request)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^Docker refused the container: .*CPU/i) });
    expect(await containersNamed(request)).toEqual([]);
  });

  it('the same workload twice: a 409, and the running container is left alone', async () => {
    const request = shellJob('sleep 30');
    const { id } = await runtime.start(request);
    await expect(runtime.start(request)).rejects.toMatchObject({ status: 409, message: `a container named trainyard-job-${request.id} already exists on the Docker engine` });
    expect((await runtime.inspect(id)).running).toBe(true);
    expect((await containersNamed(request)).map((container) => container.Labels[LABELS.instance])).toEqual([instanceId]);
    await runtime.remove(id);
  });

  it('wait on a container that was created but never started is a 409, not a hang', async () => {
    const request = shellJob('true');
    const created = await engine.createContainer({
      name: `trainyard-job-${request.id}`,
      Image: request.image,
      Labels: { [LABELS.kind]: 'job', [LABELS.id]: request.id, [LABELS.project]: request.project, [LABELS.instance]: instanceId },
    });
    await expect(runtime.wait(created.id)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/was created but never started/) });
    expect((await ownedFor(request)).map((container) => container.state)).toEqual(['created']);
  });
});
