import { describe, expect, it } from 'vitest';
import { buildCreateOptions, DEFAULT_PIDS_LIMIT, DEFAULT_SHM_BYTES, DROPPED_CAPABILITIES } from '../../src/runtime/container-options.ts';
import type { ContainerRequest } from '../../src/runtime/container-request.ts';

const BASE: ContainerRequest = { kind: 'job', id: '42', project: 'vision', image: 'trainyard-test/busybox:1', command: ['python', 'train.py'] };
const INSTANCE = 'appliance-a';
const GIB = 1024 ** 3;

const build = (overrides: Partial<ContainerRequest>) => buildCreateOptions({ ...BASE, ...overrides }, INSTANCE);

describe('buildCreateOptions: what a valid request becomes', () => {
  it('names and labels the container after the workload and the instance', () => {
    const options = build({ kind: 'notebook', id: 'nb-7', project: 'nlp' });
    expect(options.name).toBe('trainyard-notebook-nb-7');
    expect(options.Labels).toEqual({
      'dev.trainyard.kind': 'notebook',
      'dev.trainyard.id': 'nb-7',
      'dev.trainyard.project': 'nlp',
      'dev.trainyard.instance': INSTANCE,
    });
    expect(options.Image).toBe('trainyard-test/busybox:1');
    expect(options.Cmd).toEqual(['python', 'train.py']);
  });

  it('applies the security defaults', () => {
    const host = build({}).HostConfig!;
    expect(host).toMatchObject({
      NetworkMode: 'bridge',
      Privileged: false,
      CapAdd: [],
      CapDrop: [...DROPPED_CAPABILITIES],
      SecurityOpt: ['no-new-privileges'],
      Init: true,
      PidsLimit: DEFAULT_PIDS_LIMIT,
      ShmSize: DEFAULT_SHM_BYTES,
      ExtraHosts: ['host.docker.internal:host-gateway'],
      Mounts: [],
      AutoRemove: false,
    });
    expect(host).not.toHaveProperty('PortBindings');
    expect(host).not.toHaveProperty('Binds');
  });

  const table: Array<{ name: string; request: Partial<ContainerRequest>; expect: (options: ReturnType<typeof build>) => void }> = [
    {
      name: 'real GPUs: DeviceRequests by UUID (never Count) and NVIDIA_VISIBLE_DEVICES',
      request: { gpus: { uuids: ['GPU-aaaa-1', 'MIG-bbbb/1/0'], simulated: false } },
      expect: (options) => {
        expect(options.HostConfig!.DeviceRequests).toEqual([{ Driver: 'nvidia', DeviceIDs: ['GPU-aaaa-1', 'MIG-bbbb/1/0'], Capabilities: [['gpu']] }]);
        expect(options.HostConfig!.DeviceRequests![0]).not.toHaveProperty('Count');
        expect(options.Env).toContain('NVIDIA_VISIBLE_DEVICES=GPU-aaaa-1,MIG-bbbb/1/0');
      },
    },
    {
      name: 'simulated GPUs: only NVIDIA_VISIBLE_DEVICES',
      request: { gpus: { uuids: ['GPU-fake-0', 'GPU-fake-3'], simulated: true } },
      expect: (options) => {
        expect(options.HostConfig).not.toHaveProperty('DeviceRequests');
        expect(options.Env).toContain('NVIDIA_VISIBLE_DEVICES=GPU-fake-0,GPU-fake-3');
      },
    },
    {
      name: 'no GPUs: NVIDIA_VISIBLE_DEVICES=void',
      request: {},
      expect: (options) => {
        expect(options.HostConfig).not.toHaveProperty('DeviceRequests');
        expect(options.Env).toEqual(['NVIDIA_VISIBLE_DEVICES=void']);
      },
    },
    {
      name: 'limits: NanoCpus, Memory with no swap, pids, shm',
      request: { cpus: 1.5, memoryBytes: 2 * GIB, pidsLimit: 512, shmBytes: 256 * 1024 * 1024 },
      expect: (options) => expect(options.HostConfig).toMatchObject({ NanoCpus: 1_500_000_000, Memory: 2 * GIB, MemorySwap: 2 * GIB, PidsLimit: 512, ShmSize: 256 * 1024 * 1024 }),
    },
    {
      name: 'no memory limit asked: none set',
      request: { cpus: 0.25 },
      expect: (options) => {
        expect(options.HostConfig!.NanoCpus).toBe(250_000_000);
        expect(options.HostConfig).not.toHaveProperty('Memory');
        expect(options.HostConfig).not.toHaveProperty('MemorySwap');
      },
    },
    {
      name: 'env, working dir and the image CMD when no command is given',
      request: { command: undefined, env: { LR: '0.1', _X: 'a=b c' }, workingDir: '/workspace/src' },
      expect: (options) => {
        expect(options).not.toHaveProperty('Cmd');
        expect(options.Env).toEqual(['LR=0.1', '_X=a=b c', 'NVIDIA_VISIBLE_DEVICES=void']);
        expect(options.WorkingDir).toBe('/workspace/src');
      },
    },
    {
      name: 'workspace read-only, outputs read-write, extra mounts as bind mounts',
      request: {
        workspace: { hostPath: '/srv/ty/snapshots/42', readOnly: true },
        outputs: { hostPath: '/srv/ty/outputs/42' },
        mounts: [{ hostPath: '/srv/ty/datasets/mnist/3', containerPath: '/data/mnist', readOnly: true }],
      },
      expect: (options) =>
        expect(options.HostConfig!.Mounts).toEqual([
          { Type: 'bind', Source: '/srv/ty/snapshots/42', Target: '/workspace', ReadOnly: true },
          { Type: 'bind', Source: '/srv/ty/outputs/42', Target: '/outputs', ReadOnly: false },
          { Type: 'bind', Source: '/srv/ty/datasets/mnist/3', Target: '/data/mnist', ReadOnly: true },
        ]),
    },
    {
      name: 'ports published on 127.0.0.1 only, at a port the engine picks',
      request: { kind: 'deployment', ports: [8080] },
      expect: (options) => {
        expect(options.ExposedPorts).toEqual({ '8080/tcp': {} });
        expect(options.HostConfig!.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
      },
    },
    {
      name: 'an added capability is no longer dropped; names are normalized',
      request: { capAdd: ['cap_net_raw', 'SYS_PTRACE'] },
      expect: (options) => {
        expect(options.HostConfig!.CapAdd).toEqual(['NET_RAW', 'SYS_PTRACE']);
        expect(options.HostConfig!.CapDrop).not.toContain('NET_RAW');
      },
    },
    {
      name: 'privileged and host network pass through (the policy decides whether they are allowed)',
      request: { privileged: true, network: 'host' },
      expect: (options) => expect(options.HostConfig).toMatchObject({ Privileged: true, NetworkMode: 'host' }),
    },
    {
      name: 'image references with a registry, port and digest',
      request: { image: `registry.lab:5000/team/train_v2:2024.1@sha256:${'a'.repeat(64)}` },
      expect: (options) => expect(options.Image).toContain('registry.lab:5000/'),
    },
  ];
  for (const row of table) it(row.name, () => row.expect(build(row.request)));
});

describe('buildCreateOptions: invalid requests are 400s that say what is wrong', () => {
  const table: Array<{ name: string; request: Record<string, unknown>; message: RegExp }> = [
    { name: 'unknown kind', request: { kind: 'cronjob' }, message: /kind must be one of job, deployment, notebook/ },
    { name: 'workload id with a slash', request: { id: '../x' }, message: /workload id "..\/x" is invalid/ },
    { name: 'empty project', request: { project: '' }, message: /project must be a non-empty string/ },
    { name: 'image with upper case', request: { image: 'Ubuntu' }, message: /image "Ubuntu" is not a valid image reference/ },
    { name: 'image with a space', request: { image: 'busybox latest' }, message: /not a valid image reference/ },
    { name: 'command as a shell string', request: { command: 'python train.py' }, message: /command must be a non-empty list/ },
    { name: 'empty command', request: { command: [] }, message: /command must be a non-empty list/ },
    { name: 'command with a number', request: { command: ['sleep', 5] }, message: /every command argument must be a string/ },
    { name: 'env name with a dash', request: { env: { 'MY-VAR': '1' } }, message: /env name "MY-VAR" is invalid/ },
    { name: 'env name starting with a digit', request: { env: { '1X': '1' } }, message: /env name "1X" is invalid/ },
    { name: 'env value not a string', request: { env: { X: 1 } }, message: /env X must be a string/ },
    { name: 'env as a list', request: { env: ['X=1'] }, message: /env must be an object/ },
    { name: 'env setting NVIDIA_VISIBLE_DEVICES', request: { env: { NVIDIA_VISIBLE_DEVICES: 'all' } }, message: /NVIDIA_VISIBLE_DEVICES is set by Trainyard/ },
    { name: 'relative working dir', request: { workingDir: 'src' }, message: /workingDir must be an absolute, normalized path/ },
    { name: 'empty GPU list', request: { gpus: { uuids: [], simulated: false } }, message: /gpus.uuids is empty/ },
    { name: 'GPU by index', request: { gpus: { uuids: ['0'], simulated: false } }, message: /GPU "0" is not a GPU or MIG UUID/ },
    { name: 'GPU with a comma', request: { gpus: { uuids: ['GPU-a,GPU-b'], simulated: true } }, message: /is not a GPU or MIG UUID/ },
    { name: 'GPU twice', request: { gpus: { uuids: ['GPU-a', 'GPU-a'], simulated: false } }, message: /lists a GPU twice/ },
    { name: 'gpus as a count', request: { gpus: 2 }, message: /gpus must be \{ uuids/ },
    { name: 'zero cpus', request: { cpus: 0 }, message: /cpus must be a number from 0.01/ },
    { name: 'negative memory', request: { memoryBytes: -1 }, message: /memoryBytes must be an integer from 6291456/ },
    { name: 'memory below Docker\'s minimum', request: { memoryBytes: 1024 }, message: /memoryBytes must be an integer/ },
    { name: 'fractional memory', request: { memoryBytes: 1.5e9 + 0.5 }, message: /memoryBytes must be an integer/ },
    { name: 'pids limit of 1', request: { pidsLimit: 1 }, message: /pidsLimit must be an integer from 16/ },
    { name: 'relative host path', request: { outputs: { hostPath: 'outputs' } }, message: /host path must be an absolute, normalized path/ },
    { name: 'host path with ..', request: { workspace: { hostPath: '/srv/ty/snapshots/../../etc', readOnly: true } }, message: /absolute, normalized path/ },
    { name: 'mount over /', request: { mounts: [{ hostPath: '/srv/ty/x/1', containerPath: '/', readOnly: true }] }, message: /nothing may be mounted over the container's root/ },
    { name: 'two mounts at one place', request: { outputs: { hostPath: '/srv/ty/o/1' }, mounts: [{ hostPath: '/srv/ty/o/2', containerPath: '/outputs', readOnly: false }] }, message: /two mounts at \/outputs/ },
    { name: 'mount without readOnly', request: { mounts: [{ hostPath: '/srv/ty/o/2', containerPath: '/data' }] }, message: /a mount is \{ hostPath, containerPath, readOnly \}/ },
    { name: 'port out of range', request: { ports: [70000] }, message: /a port must be an integer from 1 to 65535/ },
    { name: 'port on the host network', request: { ports: [8080], network: 'host' }, message: /only be published on the bridge network/ },
    { name: 'unknown network', request: { network: 'macvlan' }, message: /network must be one of bridge, none, host/ },
    { name: 'privileged as a string', request: { privileged: 'yes' }, message: /privileged must be true or false/ },
    { name: 'capability with a space', request: { capAdd: ['NET ADMIN'] }, message: /capability "NET ADMIN" is not a capability name/ },
  ];
  for (const row of table) {
    it(row.name, () => {
      const invalid = { status: 400, code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(row.message) };
      expect(() => build(row.request as Partial<ContainerRequest>)).toThrow(expect.objectContaining(invalid));
    });
  }
});
