import type { ContainerCreateOptions, MountSettings } from 'dockerode';
import type { ContainerRequest } from './container-request.ts';
import { bindMounts, normalizeCapability, RESERVED_ENV, validateContainerRequest } from './request-validation.ts';
import { containerName, workloadLabels } from './workload-labels.ts';

/**
 * Dropped from Docker's default set: raw sockets (ARP/ICMP spoofing on the bridge), device nodes, audit writes and
 * file/bounding-set capability changes. What ordinary images need (chown, setuid to a user, kill, binding low
 * ports) stays; with no-new-privileges a setuid binary cannot raise privileges either.
 */
export const DROPPED_CAPABILITIES: readonly string[] = ['AUDIT_WRITE', 'MKNOD', 'NET_RAW', 'SETFCAP', 'SETPCAP', 'SYS_CHROOT'];

export const DEFAULT_PIDS_LIMIT = 4096;
export const DEFAULT_SHM_BYTES = 1024 * 1024 * 1024;
export const HOST_GATEWAY = 'host.docker.internal:host-gateway';
/** NVIDIA_VISIBLE_DEVICES for a container without GPUs: the NVIDIA runtime then exposes none. */
export const NO_GPUS = 'void';

// Bounded json-file logs: `docker logs` keeps working, and a chatty job cannot fill the disk.
const LOG_CONFIG = { Type: 'json-file', Config: { 'max-size': '100m', 'max-file': '3' } };

function toMount(mount: { hostPath: string; containerPath: string; readOnly: boolean }): MountSettings {
  return { Type: 'bind', Source: mount.hostPath, Target: mount.containerPath, ReadOnly: mount.readOnly };
}

/**
 * The Docker Engine (API 1.41) create options for a request, with Trainyard's security defaults. Pure; throws a 400
 * for an invalid request. The project's SecurityPolicy is checked separately (checkSecurityPolicy).
 */
export function buildCreateOptions(request: ContainerRequest, instanceId: string): ContainerCreateOptions {
  validateContainerRequest(request);
  const gpus = request.gpus;
  const env = { ...request.env, [RESERVED_ENV]: gpus ? gpus.uuids.join(',') : NO_GPUS };
  const capAdd = [...new Set((request.capAdd ?? []).map(normalizeCapability))];
  const ports = (request.ports ?? []).map((port) => `${port}/tcp`);
  const memory = request.memoryBytes === undefined ? {} : { Memory: request.memoryBytes, MemorySwap: request.memoryBytes };
  return {
    name: containerName(request),
    Image: request.image,
    ...(request.command ? { Cmd: request.command } : {}),
    Env: Object.entries(env).map(([name, value]) => `${name}=${value}`),
    ...(request.workingDir ? { WorkingDir: request.workingDir } : {}),
    Labels: workloadLabels(request, instanceId),
    ...(ports.length > 0 ? { ExposedPorts: Object.fromEntries(ports.map((port) => [port, {}])) } : {}),
    HostConfig: {
      NetworkMode: request.network ?? 'bridge',
      Privileged: request.privileged === true,
      CapDrop: DROPPED_CAPABILITIES.filter((cap) => !capAdd.includes(cap)),
      CapAdd: capAdd,
      SecurityOpt: ['no-new-privileges'],
      // docker-init as PID 1 forwards SIGTERM to the command (a bare `python` as PID 1 would ignore it) and reaps zombies.
      Init: true,
      ...(request.cpus === undefined ? {} : { NanoCpus: Math.round(request.cpus * 1e9) }),
      ...memory,
      PidsLimit: request.pidsLimit ?? DEFAULT_PIDS_LIMIT,
      ShmSize: request.shmBytes ?? DEFAULT_SHM_BYTES,
      Mounts: bindMounts(request).map(toMount),
      ExtraHosts: [HOST_GATEWAY],
      // Only on the loopback address: the appliance's authenticated proxy is the way in.
      ...(ports.length > 0 ? { PortBindings: Object.fromEntries(ports.map((port) => [port, [{ HostIp: '127.0.0.1', HostPort: '' }]])) } : {}),
      ...(gpus && !gpus.simulated ? { DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: gpus.uuids, Capabilities: [['gpu']] }] } : {}),
      LogConfig: LOG_CONFIG,
      RestartPolicy: { Name: 'no' },
      AutoRemove: false,
    },
  };
}
