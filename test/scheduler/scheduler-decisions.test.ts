import { describe, expect, it } from 'vitest';
import type { GpuSnapshot } from '../../src/gpu/gpu-types.ts';
import { allocatedGpus, gpuSecondsOf, simulatedLoads } from '../../src/scheduler/gpu-accounting.ts';
import type { JobRecord } from '../../src/scheduler/jobs.ts';
import { outcomeOf, retryDelay, type ContainerEnd, type StopIntent } from '../../src/scheduler/job-outcome.ts';
import { storedPosition } from '../../src/scheduler/log-follow.ts';
import { placeableGpus, placementInput } from '../../src/scheduler/placement-input.ts';

const GB = 1e9;
const NOW = Date.UTC(2026, 10, 22, 12);

function job(fields: Partial<JobRecord> = {}): JobRecord {
  return {
    id: 7, projectId: 1, userId: 2, name: 'train', image: 'busybox', command: ['true'], env: {}, gpus: 0, gpuMemory: null, cpus: null,
    memory: null, priority: 0, preemptible: false, timeLimitMs: null, maxRetries: 0, attempts: 1, snapshotId: null, state: 'running',
    reason: '', gpuUuids: [], containerId: 'c1', exitCode: null, mlflowRunId: null, submittedAt: NOW - 60_000, startedAt: NOW - 30_000,
    finishedAt: null, notBefore: null, cancelRequestedAt: null, gpuSeconds: 10, privileged: false, hostNetwork: false, mounts: [], capabilities: [],
    deploymentId: null, modelPath: null, servePort: null,
    ...fields,
  };
}

const exit = (exitCode: number, seconds = 30, oomKilled = false): ContainerEnd => ({ exitCode, oomKilled, startedAt: NOW - seconds * 1000, finishedAt: NOW });

describe('what becomes of a job whose container ended', () => {
  const cases: Array<[string, Partial<JobRecord>, ContainerEnd, StopIntent | undefined, { to: string; reason: string; notBefore?: number | null }]> = [
    ['exit 0', {}, exit(0), undefined, { to: 'succeeded', reason: 'exit code 0' }],
    ['exit 3, no retries', {}, exit(3), undefined, { to: 'failed', reason: 'exit code 3' }],
    ['killed for memory', {}, exit(137, 30, true), undefined, { to: 'failed', reason: 'exit code 137 (out of memory: the container went past its memory limit)' }],
    ['exit 1, first of 2 retries', { maxRetries: 2 }, exit(1), undefined, { to: 'queued', reason: 'exit code 1; retry 1 of 2 in 10 s', notBefore: NOW + 10_000 }],
    ['exit 1, second of 2 retries', { maxRetries: 2, attempts: 2 }, exit(1), undefined, { to: 'queued', reason: 'exit code 1; retry 2 of 2 in 20 s', notBefore: NOW + 20_000 }],
    ['exit 1, retries used up', { maxRetries: 2, attempts: 3 }, exit(1), undefined, { to: 'failed', reason: 'exit code 1' }],
    ['cancelled while running', { cancelRequestedAt: NOW - 5 }, exit(143), undefined, { to: 'cancelled', reason: 'cancelled; the container stopped with exit code 143' }],
    ['cancelled, even after exiting 0', {}, exit(0), { kind: 'cancel' }, { to: 'cancelled', reason: 'cancelled; the container stopped with exit code 0' }],
    ['stopped at the time limit', { timeLimitMs: 7_200_000 }, exit(143), { kind: 'timeout' }, { to: 'timed_out', reason: 'stopped at its time limit of 2 h' }],
    ['stopped at the limit while the appliance was down', { timeLimitMs: 20_000 }, exit(137, 31), undefined, { to: 'timed_out', reason: 'stopped at its time limit of 20 s' }],
    ['failing before its limit', { timeLimitMs: 60_000 }, exit(1, 31), undefined, { to: 'failed', reason: 'exit code 1' }],
    ['preempted', { maxRetries: 0 }, exit(143), { kind: 'preempt', forJobId: 9 }, { to: 'queued', reason: 'preempted by job 9', notBefore: null }],
    ['done within the preemption grace', {}, exit(0), { kind: 'preempt', forJobId: 9 }, { to: 'succeeded', reason: 'exit code 0' }],
    ['its container gone', {}, { vanished: 'gone' }, undefined, { to: 'lost', reason: 'gone' }],
  ];
  it.each(cases)('%s', (_name, fields, end, intent, expected) => {
    const outcome = outcomeOf(job(fields), end, { ...(intent && { intent }), gpuSeconds: 5, now: NOW, retryBaseMs: 10_000 });
    expect(outcome).toMatchObject({ to: expected.to, reason: expected.reason });
    expect(outcome.changes.gpuSeconds).toBe(15);
    if (expected.to === 'queued') expect(outcome.changes).toMatchObject({ notBefore: expected.notBefore, containerId: null, gpuUuids: [], startedAt: null });
    else expect(outcome.changes.finishedAt).toBe(NOW);
  });

  it('backs off 10 s, 20 s, 40 s ... and never more than 10 minutes', () => {
    expect([1, 2, 3, 4, 8, 20].map((attempt) => retryDelay(attempt, 10_000))).toEqual([10_000, 20_000, 40_000, 80_000, 600_000, 600_000]);
  });
});

describe('GPU accounting', () => {
  const totals = new Map([['GPU-a', 80 * GB]]);
  it.each([
    ['two whole GPUs', { gpus: 2, gpuMemory: null, gpuUuids: ['GPU-a', 'GPU-b'] }, 2],
    ['a quarter of an 80 GB GPU', { gpus: 0, gpuMemory: 20 * GB, gpuUuids: ['GPU-a'] }, 0.25],
    ['a slice of a GPU that is no longer listed', { gpus: 0, gpuMemory: 20 * GB, gpuUuids: ['GPU-x'] }, 0],
    ['no GPU', { gpus: 0, gpuMemory: null, gpuUuids: [] }, 0],
  ])('%s counts as %s', (_name, allocation, expected) => {
    expect(allocatedGpus(allocation, (uuid) => totals.get(uuid))).toBe(expected);
  });

  it('counts a run of negative length (Docker stamps a very short one so) as none', () => {
    expect(gpuSecondsOf(2, NOW, NOW + 1500)).toBe(3);
    expect(gpuSecondsOf(2, NOW + 5, NOW)).toBe(0);
  });

  it('tells simulated GPUs what their jobs hold, and idle ones that they hold nothing', () => {
    const gpus = ['GPU-a', 'GPU-b', 'GPU-c'].map((uuid, index) => ({ uuid, index, name: 'H100', memoryTotal: 80 * GB, memoryFree: 80 * GB }));
    const loads = simulatedLoads(gpus, [
      { gpus: 1, gpuMemory: null, gpuUuids: ['GPU-a'] },
      { gpus: 0, gpuMemory: 20 * GB, gpuUuids: ['GPU-b'] },
      { gpus: 0, gpuMemory: 30 * GB, gpuUuids: ['GPU-b'] },
    ]);
    expect(loads).toEqual(new Map([['GPU-a', 72 * GB], ['GPU-b', 50 * GB], ['GPU-c', 0]]));
  });
});

describe("the planner's input", () => {
  const snapshot: GpuSnapshot = {
    kind: 'nvidia',
    sampledAt: NOW,
    processes: [],
    devices: [
      { index: 0, uuid: 'GPU-0', name: 'A100', memoryTotal: 80 * GB, memoryUsed: 10 * GB, memoryFree: null, utilization: 0.5, temperature: 40, powerDraw: 100, powerLimit: 400, migMode: 'disabled', migDevices: [] },
      {
        index: 1, uuid: 'GPU-1', name: 'A100', memoryTotal: 80 * GB, memoryUsed: 0, memoryFree: 80 * GB, utilization: null, temperature: 40, powerDraw: 100, powerLimit: 400, migMode: 'enabled',
        migDevices: [
          { uuid: 'MIG-1a', parentUuid: 'GPU-1', index: 0, profile: '3g.40gb', memoryTotal: 40 * GB, memoryUsed: 0, memoryFree: 40 * GB },
          { uuid: 'MIG-1b', parentUuid: 'GPU-1', index: 1, profile: 'odd', memoryTotal: null, memoryUsed: null, memoryFree: null },
        ],
      },
    ],
  };

  it("takes GPUs and MIG devices with their GPU's index, leaving out units of unknown memory", () => {
    expect(placeableGpus(snapshot, new Map([['GPU-0', 4 * GB]]))).toEqual([
      { uuid: 'GPU-0', index: 0, name: 'A100', memoryTotal: 80 * GB, memoryFree: 70 * GB, memoryUsedByJobs: 4 * GB },
      { uuid: 'MIG-1a', index: 1, name: 'A100 MIG 3g.40gb', memoryTotal: 40 * GB, memoryFree: 40 * GB },
    ]);
  });

  it('counts running jobs against their owners, stopping ones as stopping, and queues the rest', () => {
    const running = job({ gpus: 1, gpuUuids: ['GPU-0'], preemptible: true, timeLimitMs: 60_000 });
    const cancelled = job({ id: 8, gpuMemory: 10 * GB, gpuUuids: ['MIG-1a'], cancelRequestedAt: NOW });
    const waiting = job({ id: 9, state: 'queued', gpus: 2, cpus: 4, memory: 8 * GB, priority: 3, startedAt: null });
    const input = placementInput({
      now: NOW,
      gpus: [],
      host: { cpus: 8, memory: 64 * GB },
      holding: [running, cancelled],
      waiting: [waiting],
      stopping: (held) => held.cancelRequestedAt !== null,
      quotas: { gpusPerUser: 2 },
    });
    expect(input.running).toEqual([
      { id: 7, user: 'user 2', project: 'project 1', priority: 0, resources: { gpus: 1, cpus: 0, memory: 0 }, timeLimitMs: 60_000, gpuUuids: ['GPU-0'], startedAt: NOW - 30_000, preemptible: true },
      { id: 8, user: 'user 2', project: 'project 1', priority: 0, resources: { gpuMemory: 10 * GB, cpus: 0, memory: 0 }, gpuUuids: ['MIG-1a'], startedAt: NOW - 30_000, preemptible: false, stopping: true },
    ]);
    expect(input.queue).toEqual([{ id: 9, user: 'user 2', project: 'project 1', priority: 3, resources: { gpus: 2, cpus: 4, memory: 8 * GB }, submittedAt: NOW - 60_000 }]);
    expect(input.quotas).toEqual({ gpusPerUser: 2 });
  });
});

describe('where a followed log resumes', () => {
  it('is the last container line (the appliance’s own lines carry its clock and are left out), with every line of that millisecond', () => {
    expect(
      storedPosition([
        { stream: 'stdout', time: 100, text: 'a' },
        { stream: 'stderr', time: 200, text: 'b' },
        { stream: 'stdout', time: 200, text: 'c' },
        { stream: 'system', time: 9_999, text: 'exit code 0' },
      ]),
    ).toEqual({ time: 200, lines: ['stderr\nb', 'stdout\nc'] });
    expect(storedPosition([{ stream: 'system', time: 1, text: 'running' }])).toBeUndefined();
  });
});
