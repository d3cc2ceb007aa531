import { posix } from 'node:path';
import { invalidParameterValue } from '../lib/errors.ts';
import {
  NETWORK_MODES,
  OUTPUTS_PATH,
  WORKLOAD_KINDS,
  WORKSPACE_PATH,
  type BindMount,
  type ContainerRequest,
} from './container-request.ts';

const WORKLOAD_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// nvidia-smi's UUIDs; simulated GPUs may name theirs freely, but never with a comma (it splits NVIDIA_VISIBLE_DEVICES).
const GPU_UUID = /^(GPU|MIG)-[A-Za-z0-9][A-Za-z0-9/_.:-]*$/;
const SIMULATED_GPU_ID = /^[A-Za-z0-9][A-Za-z0-9/_.:-]*$/;
// Docker's reference grammar, loosely: [registry[:port]/]path[:tag][@sha256:digest], path in lower case.
const IMAGE_REFERENCE =
  /^(?:[A-Za-z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

const MAX_COMMAND_BYTES = 128 * 1024;
const MAX_ENV_BYTES = 256 * 1024;
const MAX_CPUS = 1024;
/** Docker refuses a memory limit under 6 MB. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
const MAX_PIDS = 4_194_304;

/** Set by Trainyard from the allocated GPUs; a job that set it itself could reach GPUs it was not given. */
export const RESERVED_ENV = 'NVIDIA_VISIBLE_DEVICES';

/** Every Linux capability (capability.h, up to Linux 6.x), without `CAP_`: the names Docker's CapAdd takes. */
const LINUX_CAPABILITIES: readonly string[] = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

/** `SYS_PTRACE` for `sys_ptrace` or `CAP_SYS_PTRACE`: the form Docker and the policies compare. */
export function normalizeCapability(name: string): string {
  return name.toUpperCase().replace(/^CAP_/, '');
}

/** Whether `name` is a Linux capability, in any case, with or without `CAP_` (`ALL` is not: that is privileged mode). */
export const isLinuxCapability = (name: string) => LINUX_CAPABILITIES.includes(normalizeCapability(name));

function fail(message: string): never {
  throw invalidParameterValue(message);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const hasNul = (text: string) => text.includes('\0');

/** An absolute path with nothing to resolve: no `..` or `.`, no doubled or trailing `/`. */
export const isNormalizedAbsolutePath = (path: string) =>
  posix.isAbsolute(path) && !hasNul(path) && posix.normalize(path) === path && (path === '/' || !path.endsWith('/'));

function checkAbsolutePath(path: unknown, what: string): asserts path is string {
  if (typeof path !== 'string' || !isNormalizedAbsolutePath(path)) {
    fail(`${what} must be an absolute, normalized path (no "..", no trailing "/"), got ${JSON.stringify(path)}`);
  }
}

function checkNumber(value: unknown, what: string, min: number, max: number, integer: boolean): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    fail(`${what} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}

function checkCommand(command: unknown): void {
  if (command === undefined) return;
  if (!Array.isArray(command) || command.length === 0) {
    fail('command must be a non-empty list of arguments, e.g. ["python", "train.py"] (a shell string is not accepted)');
  }
  if (!command.every((arg) => typeof arg === 'string' && !hasNul(arg))) fail('every command argument must be a string without NUL');
  if (Buffer.byteLength(command.join('\0')) > MAX_COMMAND_BYTES) fail(`command is longer than ${MAX_COMMAND_BYTES} bytes`);
}

function checkEnv(env: unknown): void {
  if (env === undefined) return;
  if (!isPlainObject(env)) fail('env must be an object of NAME: value');
  let bytes = 0;
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) fail(`env name ${JSON.stringify(name)} is invalid: letters, digits and _, not starting with a digit`);
    if (name === RESERVED_ENV) fail(`env ${RESERVED_ENV} is set by Trainyard from the GPUs the workload was given`);
    if (typeof value !== 'string' || hasNul(value)) fail(`env ${name} must be a string without NUL`);
    bytes += name.length + Buffer.byteLength(value) + 2;
  }
  if (bytes > MAX_ENV_BYTES) fail(`env is larger than ${MAX_ENV_BYTES} bytes`);
}

function checkGpus(gpus: ContainerRequest['gpus']): void {
  if (gpus === undefined) return;
  if (!isPlainObject(gpus) || typeof gpus.simulated !== 'boolean' || !Array.isArray(gpus.uuids)) {
    fail('gpus must be { uuids: [...], simulated: true|false }');
  }
  if (gpus.uuids.length === 0) fail('gpus.uuids is empty: leave gpus out for a container without GPUs');
  const pattern = gpus.simulated ? SIMULATED_GPU_ID : GPU_UUID;
  for (const uuid of gpus.uuids) {
    if (typeof uuid !== 'string' || uuid.length > 200 || !pattern.test(uuid)) fail(`GPU ${JSON.stringify(uuid)} is not a GPU or MIG UUID (GPU-..., MIG-...)`);
  }
  if (new Set(gpus.uuids).size !== gpus.uuids.length) fail('gpus.uuids lists a GPU twice');
}

/** Every bind mount of the request, the workspace and the outputs included. */
export function bindMounts(request: Pick<ContainerRequest, 'workspace' | 'outputs' | 'mounts'>): BindMount[] {
  const mounts: BindMount[] = [];
  if (request.workspace) mounts.push({ hostPath: request.workspace.hostPath, containerPath: WORKSPACE_PATH, readOnly: request.workspace.readOnly });
  if (request.outputs) mounts.push({ hostPath: request.outputs.hostPath, containerPath: OUTPUTS_PATH, readOnly: false });
  return mounts.concat(request.mounts ?? []);
}

function checkMounts(request: ContainerRequest): void {
  if (request.mounts !== undefined && !Array.isArray(request.mounts)) fail('mounts must be a list');
  const targets = new Set<string>();
  for (const mount of bindMounts(request)) {
    if (!isPlainObject(mount) || typeof mount.readOnly !== 'boolean') fail('a mount is { hostPath, containerPath, readOnly }');
    checkAbsolutePath(mount.hostPath, 'a mount\'s host path');
    checkAbsolutePath(mount.containerPath, 'a mount\'s container path');
    if (mount.containerPath === '/') fail('nothing may be mounted over the container\'s root');
    if (targets.has(mount.containerPath)) fail(`two mounts at ${mount.containerPath}`);
    targets.add(mount.containerPath);
  }
}

function checkPorts(request: ContainerRequest): void {
  if (request.ports === undefined) return;
  if (!Array.isArray(request.ports)) fail('ports must be a list of container ports');
  for (const port of request.ports) checkNumber(port, 'a port', 1, 65_535, true);
  if (new Set(request.ports).size !== request.ports.length) fail('ports lists a port twice');
  if (request.ports.length > 0 && (request.network ?? 'bridge') !== 'bridge') {
    fail(`ports can only be published on the bridge network, not with network ${request.network}`);
  }
}

/** Throws a 400 naming the first thing wrong with the request; the policy is checked separately. */
export function validateContainerRequest(request: ContainerRequest): void {
  if (!isPlainObject(request)) fail('a container request must be an object');
  if (!(WORKLOAD_KINDS as readonly unknown[]).includes(request.kind)) fail(`kind must be one of ${WORKLOAD_KINDS.join(', ')}`);
  if (typeof request.id !== 'string' || !WORKLOAD_ID.test(request.id)) {
    fail(`workload id ${JSON.stringify(request.id)} is invalid: up to 100 letters, digits, "_", "." and "-"`);
  }
  if (typeof request.project !== 'string' || request.project === '' || hasNul(request.project)) fail('project must be a non-empty string');
  if (typeof request.image !== 'string' || request.image.length > 512 || !IMAGE_REFERENCE.test(request.image)) {
    fail(`image ${JSON.stringify(request.image)} is not a valid image reference (e.g. registry.example/team/train:1.2)`);
  }
  checkCommand(request.command);
  checkEnv(request.env);
  if (request.workingDir !== undefined) checkAbsolutePath(request.workingDir, 'workingDir');
  checkGpus(request.gpus);
  checkNumber(request.cpus, 'cpus', 0.01, MAX_CPUS, false);
  checkNumber(request.memoryBytes, 'memoryBytes', MIN_MEMORY_BYTES, Number.MAX_SAFE_INTEGER, true);
  checkNumber(request.pidsLimit, 'pidsLimit', 16, MAX_PIDS, true);
  checkNumber(request.shmBytes, 'shmBytes', 1024 * 1024, Number.MAX_SAFE_INTEGER, true);
  checkMounts(request);
  checkPorts(request);
  if (request.network !== undefined && !(NETWORK_MODES as readonly unknown[]).includes(request.network)) {
    fail(`network must be one of ${NETWORK_MODES.join(', ')}`);
  }
  if (request.privileged !== undefined && typeof request.privileged !== 'boolean') fail('privileged must be true or false');
  if (request.capAdd !== undefined) {
    if (!Array.isArray(request.capAdd)) fail('capAdd must be a list of capability names');
    for (const cap of request.capAdd) {
      if (typeof cap !== 'string' || !isLinuxCapability(cap)) fail(`capability ${JSON.stringify(cap)} is not a capability name like SYS_PTRACE`);
    }
  }
}
