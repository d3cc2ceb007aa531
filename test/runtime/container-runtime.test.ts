import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerRuntime } from '../../src/runtime/container-runtime.ts';
import { cpuPercentBetween } from '../../src/runtime/container-usage.ts';
import { requireDocker } from '../helpers/environment.ts';
import { collectLines, createTestRuntime, removeInstanceContainers, requireImage, shellJob, testInstanceId } from './runtime-fixtures.ts';

// Throws in CI when no engine answers (the file fails); undefined locally (the file skips).
const docker = await requireDocker();

describe.skipIf(!docker)('container runtime on the real engine', { concurrent: true }, () => {
  const engine = docker as Dockerode;
  const instanceId = testInstanceId();
  const otherInstanceId = testInstanceId();
  let dataDir: string;
  let runtime: ContainerRuntime;

  /** Starts a job and returns its container id once it has exited. */
  async function runToExit(script: string): Promise<{ id: string; exitCode: number }> {
    const { id } = await runtime.start(shellJob(script));
    return { id, exitCode: (await runtime.wait(id)).exitCode };
  }

  beforeAll(async () => {
    await requireImage(engine);
    dataDir = mkdtempSync(join(tmpdir(), 'trainyard-runtime-'));
    runtime = createTestRuntime(engine, { instanceId, mountRoots: [join(dataDir, 'snapshots'), join(dataDir, 'outputs')] });
  });

  afterAll(async () => {
    await removeInstanceContainers(engine, [instanceId, otherInstanceId]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs echo: its output and exit code come back', async () => {
    const { id, exitCode } = await runToExit('echo hello from the job');
    expect(exitCode).toBe(0);
    expect(await collectLines(runtime.logs(id))).toEqual([{ stream: 'stdout', text: 'hello from the job' }]);
    const status = await runtime.inspect(id);
    expect(status).toMatchObject({ state: 'exited', running: false, exitCode: 0, oomKilled: false, workload: { kind: 'job', project: 'runtime-tests' } });
    // Docker may record StartedAt after a command as short as echo has already finished: both are there, in any order.
    expect(status.startedAt).toBeInstanceOf(Date);
    expect(status.finishedAt).toBeInstanceOf(Date);
  });

  it('keeps stdout and stderr apart, in order, with a nonzero exit code', async () => {
    const { id, exitCode } = await runToExit('echo out-1; echo err-1 >&2; echo out-2; exit 3');
    expect(exitCode).toBe(3);
    const lines = await collectLines(runtime.logs(id));
    expect(lines.filter((line) => line.stream === 'stdout').map((line) => line.text)).toEqual(['out-1', 'out-2']);
    expect(lines.filter((line) => line.stream === 'stderr').map((line) => line.text)).toEqual(['err-1']);
  });

  it('returns a 100 KB line whole and 5,000 small lines complete; tail and since select the end', async () => {
    const { id } = await runToExit("head -c 100000 /dev/zero | tr '\\0' x; echo; seq 1 5000");
    const lines = await collectLines(runtime.logs(id));
    expect(lines).toHaveLength(5001);
    expect(lines[0]!.text).toBe('x'.repeat(100_000));
    expect(lines.at(-1)!.text).toBe('5000');
    expect((await collectLines(runtime.logs(id, { tail: 2 }))).map((line) => line.text)).toEqual(['4999', '5000']);
    expect(await collectLines(runtime.logs(id, { since: new Date(Date.now() + 60_000) }))).toEqual([]);
  });

  it('follows the log while the container runs, through to a last line without a newline', async () => {
    // The job prints its second line only once the test has read the first through the followed log.
    const gate = join(dataDir, 'outputs', 'follow-gate');
    mkdirSync(gate, { recursive: true });
    const script = 'echo first; until [ -f /outputs/go ]; do sleep 0.05; done; echo second; printf done';
    const { id } = await runtime.start(shellJob(script, { outputs: { hostPath: gate } }));
    const seen: string[] = [];
    for await (const line of runtime.logs(id, { follow: true })) {
      seen.push(line.text);
      if (line.text === 'first') writeFileSync(join(gate, 'go'), '');
    }
    expect(seen).toEqual(['first', 'second', 'done']);
    expect((await runtime.wait(id)).exitCode).toBe(0);
  });

  it('stops following when the consumer breaks off or aborts', async () => {
    const { id } = await runtime.start(shellJob('while true; do echo tick; sleep 0.1; done'));
    let count = 0;
    for await (const line of runtime.logs(id, { follow: true })) {
      expect(line.text).toBe('tick');
      if (++count === 3) break;
    }
    const controller = new AbortController();
    const beforeAbort: string[] = [];
    for await (const line of runtime.logs(id, { follow: true, tail: 0, signal: controller.signal })) {
      beforeAbort.push(line.text);
      controller.abort();
    }
    expect(beforeAbort[0]).toBe('tick');
    await runtime.remove(id);
  });

  it('stops with SIGTERM first: a trapping job ends within the grace period', async () => {
    const { id } = await runtime.start(shellJob('trap "echo got SIGTERM; exit 143" TERM; echo ready; while true; do sleep 0.1; done'));
    for await (const line of runtime.logs(id, { follow: true })) if (line.text === 'ready') break;
    const startedAt = performance.now();
    await runtime.stop(id, 10);
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    expect(await runtime.wait(id)).toMatchObject({ exitCode: 143, oomKilled: false });
    expect((await collectLines(runtime.logs(id))).map((line) => line.text)).toContain('got SIGTERM');
  });

  it('kills a job that ignores SIGTERM once the grace period is over', async () => {
    const { id } = await runtime.start(shellJob('trap "echo ignoring SIGTERM" TERM; echo ready; while true; do sleep 0.1; done'));
    for await (const line of runtime.logs(id, { follow: true })) if (line.text === 'ready') break;
    const startedAt = performance.now();
    await runtime.stop(id, 1);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(900);
    expect((await runtime.wait(id)).exitCode).toBe(137);
    expect((await collectLines(runtime.logs(id))).map((line) => line.text)).toContain('ignoring SIGTERM');
    await runtime.stop(id, 1);
  });

  it('creates containers with the labels, limits and security defaults visible in docker inspect', async () => {
    const script = 'echo "gpus=$NVIDIA_VISIBLE_DEVICES"; grep -c host.docker.internal /etc/hosts; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max';
    const request = shellJob(script, { cpus: 0.5, memoryBytes: 64 * 1024 * 1024, pidsLimit: 64, gpus: { uuids: ['GPU-sim-0', 'GPU-sim-1'], simulated: true } });
    const { id, name } = await runtime.start(request);
    expect(name).toBe(`trainyard-job-${request.id}`);
    expect((await runtime.wait(id)).exitCode).toBe(0);
    expect((await collectLines(runtime.logs(id))).map((line) => line.text)).toEqual(['gpus=GPU-sim-0,GPU-sim-1', '1', String(64 * 1024 * 1024)]);

    const info = await engine.getContainer(id).inspect();
    expect(info.Config.Labels).toMatchObject({
      'dev.trainyard.kind': 'job',
      'dev.trainyard.id': request.id,
      'dev.trainyard.project': 'runtime-tests',
      'dev.trainyard.instance': instanceId,
    });
    expect(info.Config.Env).toContain('NVIDIA_VISIBLE_DEVICES=GPU-sim-0,GPU-sim-1');
    expect(info.HostConfig).toMatchObject({
      NanoCpus: 500_000_000,
      Memory: 64 * 1024 * 1024,
      MemorySwap: 64 * 1024 * 1024,
      PidsLimit: 64,
      Privileged: false,
      NetworkMode: 'bridge',
      SecurityOpt: ['no-new-privileges'],
      ExtraHosts: ['host.docker.internal:host-gateway'],
      Init: true,
    });
    expect(info.HostConfig.CapDrop).toContain('NET_RAW');
    expect(info.HostConfig.CapAdd ?? []).toEqual([]);
    expect(info.HostConfig.DeviceRequests ?? []).toEqual([]);
  });

  it('mounts the snapshot read-only at /workspace and a writable /outputs from Trainyard\'s folders', async () => {
    const snapshot = join(dataDir, 'snapshots', 'job-1');
    const outputs = join(dataDir, 'outputs', 'job-1');
    mkdirSync(snapshot, { recursive: true });
    mkdirSync(outputs, { recursive: true });
    writeFileSync(join(snapshot, 'train.py'), 'print("hi")\n');
    const script = 'cat /workspace/train.py; echo 0.93 > /outputs/accuracy.txt; touch /workspace/new 2>/dev/null || echo read-only';
    const { id } = await runtime.start(shellJob(script, { workspace: { hostPath: snapshot, readOnly: true }, outputs: { hostPath: outputs }, workingDir: '/workspace' }));
    expect((await runtime.wait(id)).exitCode).toBe(0);
    expect((await collectLines(runtime.logs(id))).map((line) => line.text)).toEqual(['print("hi")', 'read-only']);
    expect(readFileSync(join(outputs, 'accuracy.txt'), 'utf8')).toBe('0.93\n');
  });

  it('publishes a port on 127.0.0.1 only, where the appliance can reach it', async () => {
    const { id } = await runtime.start(shellJob('mkdir -p /www && echo ok > /www/health && httpd -f -p 8080 -h /www', { kind: 'deployment', ports: [8080] }));
    const { ports } = await runtime.inspect(id);
    expect(ports[8080]).toBeGreaterThan(0);
    const info = await engine.getContainer(id).inspect();
    expect((info.HostConfig.PortBindings as Record<string, Array<{ HostIp: string }>>)['8080/tcp']![0]!.HostIp).toBe('127.0.0.1');
    let body = '';
    for (let attempt = 0; attempt < 50 && body === ''; attempt++) {
      body = await fetch(`http://127.0.0.1:${ports[8080]}/health`, { signal: AbortSignal.timeout(1_000) })
        .then((response) => (response.ok ? response.text() : ''))
        .catch(() => new Promise<string>((resolve) => setTimeout(() => resolve(''), 100)));
    }
    expect(body).toBe('ok\n');
    await runtime.remove(id);
  });

  it('waits again after a restart: a new runtime gets the exit of a running and of an exited container', async () => {
    const exited = await runToExit('exit 7');
    const { id: running } = await runtime.start(shellJob('sleep 0.5; exit 9'));
    const afterRestart = createTestRuntime(engine, { instanceId });
    const [first, second] = await Promise.all([afterRestart.wait(exited.id), afterRestart.wait(running)]);
    expect(first.exitCode).toBe(7);
    expect(second.exitCode).toBe(9);
    expect(second.finishedAt.getTime()).toBeGreaterThan(first.finishedAt.getTime());
  });

  it('lists only its own containers, and never touches another instance\'s', async () => {
    const other = createTestRuntime(engine, { instanceId: otherInstanceId });
    const { id: theirs } = await other.start(shellJob('sleep 30'));
    const { id: ours } = await runtime.start(shellJob('sleep 30'));
    const owned = await runtime.listOwned();
    expect(owned.map((container) => container.id)).toContain(ours);
    expect(owned.map((container) => container.id)).not.toContain(theirs);
    expect(owned.find((container) => container.id === ours)).toMatchObject({ state: 'running', workload: { kind: 'job', project: 'runtime-tests' } });
    await expect(runtime.inspect(theirs)).rejects.toMatchObject({ status: 404 });
    await expect(runtime.stop(theirs, 0)).rejects.toMatchObject({ status: 404 });
    await runtime.remove(theirs);
    expect((await engine.getContainer(theirs).inspect()).State.Running).toBe(true);
    await other.remove(theirs);
    await runtime.remove(ours);
    await runtime.remove(ours);
    expect((await runtime.listOwned()).map((container) => container.id)).not.toContain(ours);
  });

  it('reads CPU and memory use of a running container', async () => {
    const { id } = await runtime.start(shellJob('while true; do :; done', { memoryBytes: 32 * 1024 * 1024, cpus: 0.5 }));
    const before = await runtime.stats(id);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await runtime.stats(id);
    expect(after.memoryLimitBytes).toBe(32 * 1024 * 1024);
    expect(after.memoryBytes).toBeGreaterThan(0);
    expect(after.pids).toBeGreaterThanOrEqual(1);
    expect(after.cpuNs).toBeGreaterThan(before.cpuNs);
    expect(cpuPercentBetween(before, after)).toBeGreaterThan(0);
    await runtime.remove(id);
  });
});
