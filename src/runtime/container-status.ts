import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';
import { readWorkload, type Workload } from './workload-labels.ts';

/** One of Trainyard's containers as `inspect` reports it. */
export interface ContainerStatus {
  id: string;
  name: string;
  workload: Workload;
  image: string;
  /** Docker's state: created, running, paused, restarting, removing, exited or dead. */
  state: string;
  running: boolean;
  /** Set once the container has run and stopped. */
  exitCode?: number;
  startedAt?: Date;
  finishedAt?: Date;
  oomKilled: boolean;
  /** Docker's reason when the container could not run. */
  error?: string;
  /** Published container TCP ports and the 127.0.0.1 ports they got. */
  ports: Record<number, number>;
}

/** One of Trainyard's containers as the engine lists it (for reconciling after a restart). */
export interface OwnedContainer {
  id: string;
  name: string;
  workload: Workload;
  state: string;
  createdAt: Date;
}

// Docker reports "0001-01-01T00:00:00Z" for a time that has not happened.
function dockerTime(text: string | undefined): Date | undefined {
  const time = text ? Date.parse(text) : NaN;
  return Number.isNaN(time) || time <= 0 ? undefined : new Date(time);
}

function publishedPorts(info: ContainerInspectInfo): Record<number, number> {
  const ports: Record<number, number> = {};
  const bindings = (info.NetworkSettings?.Ports ?? {}) as Record<string, Array<{ HostPort: string }> | null>;
  for (const [key, hosts] of Object.entries(bindings)) {
    const hostPort = Number(hosts?.[0]?.HostPort);
    if (key.endsWith('/tcp') && hostPort > 0) ports[Number.parseInt(key, 10)] = hostPort;
  }
  return ports;
}

/** The status of a container whose labels name a workload; undefined for anyone else's container. */
export function toContainerStatus(info: ContainerInspectInfo): ContainerStatus | undefined {
  const workload = readWorkload(info.Config?.Labels);
  if (!workload) return undefined;
  const state = info.State.Status;
  const stopped = state === 'exited' || state === 'dead';
  const startedAt = dockerTime(info.State.StartedAt);
  const finishedAt = stopped ? dockerTime(info.State.FinishedAt) : undefined;
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    workload,
    image: info.Config.Image,
    state,
    running: info.State.Running,
    ...(stopped ? { exitCode: info.State.ExitCode } : {}),
    ...(startedAt ? { startedAt } : {}),
    ...(finishedAt ? { finishedAt } : {}),
    oomKilled: info.State.OOMKilled,
    ...(info.State.Error ? { error: info.State.Error } : {}),
    ports: publishedPorts(info),
  };
}

export function toOwnedContainer(info: ContainerInfo): OwnedContainer | undefined {
  const workload = readWorkload(info.Labels);
  if (!workload) return undefined;
  return {
    id: info.Id,
    name: (info.Names[0] ?? '').replace(/^\//, ''),
    workload,
    state: info.State,
    createdAt: new Date(info.Created * 1000),
  };
}
