import type Dockerode from 'dockerode';
import type { ContainerCreateOptions, ContainerInspectInfo } from 'dockerode';
import { conflict, HttpError, invalidParameterValue, notFound } from '../lib/errors.ts';
import type { Log } from '../lib/log.ts';
import { readContainerLogs, type LogOptions } from './container-logs.ts';
import { buildCreateOptions } from './container-options.ts';
import type { ContainerRequest } from './container-request.ts';
import { toContainerStatus, toOwnedContainer, type ContainerStatus, type OwnedContainer } from './container-status.ts';
import { toContainerUsage, type ContainerUsage } from './container-usage.ts';
import { dockerAvailable } from './docker-client.ts';
import { openEngineStream, readAll, type EngineRequest } from './engine-stream.ts';
import { pullImage } from './image-pull.ts';
import type { LogLine } from './log-lines.ts';
import { ContainerStartFailed, dockerMessage, dockerStatus, RuntimeUnavailable, unavailableError } from './runtime-errors.ts';
import { checkSecurityPolicy, DEFAULT_SECURITY_POLICY, type SecurityPolicy } from './security-policy.ts';
import { LABELS } from './workload-labels.ts';

export interface ContainerRuntimeDeps {
  docker: Dockerode;
  /** This appliance's id on the engine: its containers carry it, and containers of another id are never touched. */
  instanceId: string;
  log: Log;
  /** Folders Trainyard creates workload folders in (snapshots, outputs, datasets); their subfolders may be mounted. */
  mountRoots?: readonly string[];
  /** Pull an image the engine does not have (needs a reachable registry); off by default. */
  pullImages?: boolean;
  /** The longest any request to the engine may take before the engine counts as unavailable. */
  requestTimeoutMs?: number;
  pullTimeoutMs?: number;
}

export interface StartedContainer {
  id: string;
  name: string;
}

export interface ExitStatus {
  exitCode: number;
  finishedAt: Date;
  oomKilled: boolean;
}

/** Containers for workloads on the local Docker engine. Every method throws RuntimeUnavailable when the engine is down. */
export interface ContainerRuntime {
  /** Creates and starts the container; refuses before touching Docker what the request or the policy does not allow. */
  start(request: ContainerRequest, policy?: SecurityPolicy): Promise<StartedContainer>;
  inspect(ref: string): Promise<ContainerStatus>;
  /** Resolves when the container has stopped (at once if it already has: waits resume after a restart). */
  wait(ref: string, options?: { signal?: AbortSignal }): Promise<ExitStatus>;
  logs(ref: string, options?: LogOptions): AsyncIterable<LogLine>;
  /** SIGTERM (or the image's stop signal), then SIGKILL after `graceSeconds`. */
  stop(ref: string, graceSeconds?: number): Promise<void>;
  /** Removes the container, running or not; a container that is already gone is fine. */
  remove(ref: string): Promise<void>;
  /** Every container of this instance, running or not, for reconciling after a restart. */
  listOwned(): Promise<OwnedContainer[]>;
  stats(ref: string): Promise<ContainerUsage>;
  /**
   * The monitor's reading of a container this instance started, by the id its job recorded: one request, without
   * the ownership check of `stats` (it costs a request per container and round), failing after `timeoutMs`.
   */
  usageOf(id: string, timeoutMs: number): Promise<ContainerUsage>;
  /** Host PIDs of the processes in one of this instance's containers (`docker top`), to tell whose a GPU process is. */
  processIds(ref: string, timeoutMs?: number): Promise<number[]>;
  available(): Promise<boolean>;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_PULL_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_GRACE_SECONDS = 10;
const MAX_GRACE_SECONDS = 3600;
const CONTAINER_REF = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;
const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const waitRequest = (id: string): EngineRequest => ({
  path: `/containers/${id}/wait?`,
  method: 'POST',
  query: { condition: 'not-running' },
  statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
});

const imageNotFound = (image: string, detail: string) =>
  new HttpError(400, 'IMAGE_NOT_FOUND', `image "${image}" is not on the Docker engine ${detail}`);

export function createContainerRuntime(deps: ContainerRuntimeDeps): ContainerRuntime {
  const { docker, instanceId, log } = deps;
  if (!INSTANCE_ID.test(instanceId)) throw new Error(`instance id ${JSON.stringify(instanceId)} must be letters, digits, "_", "." or "-"`);
  const mountRoots = deps.mountRoots ?? [];
  const requestTimeoutMs = deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const pullTimeoutMs = deps.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
  const modem = docker.modem as { socketPath?: unknown; host?: unknown };
  const engine = String(modem.socketPath ?? modem.host ?? 'DOCKER_HOST');

  /** Runs one request to the engine with a deadline; a failure of the connection becomes RuntimeUnavailable. */
  async function call<T>(what: string, run: (abortSignal: AbortSignal) => Promise<T>, timeoutMs = requestTimeoutMs): Promise<T> {
    try {
      return await run(AbortSignal.timeout(timeoutMs));
    } catch (error) {
      throw unavailableError(error, what, engine, timeoutMs) ?? error;
    }
  }

  /** The container's inspect answer, if it is one of ours; anything else is "not found", never touched. */
  async function owned(ref: string): Promise<ContainerInspectInfo> {
    if (typeof ref !== 'string' || !CONTAINER_REF.test(ref)) throw invalidParameterValue(`${JSON.stringify(ref)} is not a container name or id`);
    try {
      const info = await call(`inspect of ${ref}`, (abortSignal) => docker.getContainer(ref).inspect({ abortSignal }));
      if (info.Config?.Labels?.[LABELS.instance] === instanceId && toContainerStatus(info)) return info;
    } catch (error) {
      if (dockerStatus(error) !== 404) throw error;
    }
    throw notFound(`no container ${ref} of this Trainyard instance on the Docker engine`);
  }

  async function pull(image: string): Promise<void> {
    log.info({ image }, 'pulling image');
    const deadline = AbortSignal.timeout(pullTimeoutMs);
    try {
      await pullImage(docker, image, deadline);
    } catch (error) {
      // A slow registry, not a slow engine: the engine answers a pull only once the registry has.
      if (deadline.aborted) throw imageNotFound(image, `and pulling it took longer than ${pullTimeoutMs / 1000} s`);
      throw unavailableError(error, `the pull of ${image}`, engine, pullTimeoutMs) ?? imageNotFound(image, `and could not be pulled: ${dockerMessage(error)}`);
    }
  }

  async function create(options: ContainerCreateOptions, pulled = false): Promise<Dockerode.Container> {
    const image = options.Image ?? '';
    try {
      return await call(`create of ${options.name}`, (abortSignal) => docker.createContainer({ ...options, abortSignal }));
    } catch (error) {
      const status = dockerStatus(error);
      if (status === undefined) throw error;
      if (status === 404 && deps.pullImages && !pulled) {
        await pull(image);
        return create(options, true);
      }
      if (status === 404) {
        throw imageNotFound(image, deps.pullImages ? 'even after pulling it' : '(pulling is off: build or `docker load` it on this host)');
      }
      if (status === 409) throw conflict(`a container named ${options.name} already exists on the Docker engine`);
      if (status === 400) throw invalidParameterValue(`Docker refused the container: ${dockerMessage(error)}`);
      throw new Error(`Docker could not create ${options.name}: ${dockerMessage(error)}`, { cause: error });
    }
  }

  /** Force-removes a container; a failure is logged, not thrown (the caller is already reporting a failure). */
  async function removeQuietly(container: Dockerode.Container, name: string): Promise<void> {
    try {
      await call(`removal of ${name}`, (abortSignal) => container.remove({ force: true, v: true, abortSignal }));
    } catch (error) {
      log.warn({ container: name, err: error }, 'could not remove a container that failed to start');
    }
  }

  async function start(request: ContainerRequest, policy: SecurityPolicy = DEFAULT_SECURITY_POLICY): Promise<StartedContainer> {
    const options = buildCreateOptions(request, instanceId);
    checkSecurityPolicy(request, policy, mountRoots);
    const name = options.name!;
    const container = await create(options);
    try {
      await call(`start of ${name}`, (abortSignal) => container.start({ abortSignal }));
    } catch (error) {
      await removeQuietly(container, name);
      if (error instanceof RuntimeUnavailable) throw error;
      log.warn({ container: name, reason: dockerMessage(error) }, 'container could not start; removed');
      throw new ContainerStartFailed(name, dockerMessage(error), { cause: error });
    }
    log.info({ container: name, id: container.id }, 'container started');
    return { id: container.id, name };
  }

  async function wait(ref: string, options: { signal?: AbortSignal } = {}): Promise<ExitStatus> {
    const before = await owned(ref);
    if (before.State.Status === 'created') throw conflict(`container ${ref} was created but never started`);
    if (before.State.Status !== 'exited' && before.State.Status !== 'dead') {
      try {
        // No deadline once the engine has answered: a job may run for days. An engine that restarts drops the
        // connection, which ends the wait with RuntimeUnavailable; the caller waits again once it is back.
        await readAll(await openEngineStream(docker, waitRequest(before.Id), requestTimeoutMs, options.signal));
      } catch (error) {
        options.signal?.throwIfAborted();
        throw unavailableError(error, `the wait for ${ref}`, engine, requestTimeoutMs) ?? error;
      }
    }
    const after = toContainerStatus(await owned(before.Id));
    if (after?.exitCode === undefined) throw conflict(`container ${ref} is ${after?.state ?? 'gone'}, not stopped`);
    return { exitCode: after.exitCode, finishedAt: after.finishedAt ?? new Date(), oomKilled: after.oomKilled };
  }

  async function* logs(ref: string, options: LogOptions = {}): AsyncGenerator<LogLine> {
    if (options.tail !== undefined && (!Number.isInteger(options.tail) || options.tail < 0)) throw invalidParameterValue('tail must be a whole number of lines');
    if (options.since !== undefined && Number.isNaN(options.since.getTime())) throw invalidParameterValue('since must be a valid time');
    const info = await owned(ref);
    yield* readContainerLogs({ docker, engine, timeoutMs: requestTimeoutMs }, info.Id, options);
  }

  async function stop(ref: string, graceSeconds = DEFAULT_GRACE_SECONDS): Promise<void> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_GRACE_SECONDS) {
      throw invalidParameterValue(`graceSeconds must be a whole number from 0 to ${MAX_GRACE_SECONDS}`);
    }
    const info = await owned(ref);
    try {
      const timeoutMs = graceSeconds * 1000 + requestTimeoutMs;
      await call(`stop of ${ref}`, (abortSignal) => docker.getContainer(info.Id).stop({ t: graceSeconds, abortSignal }), timeoutMs);
    } catch (error) {
      // 304: it had already stopped.
      if (dockerStatus(error) !== 304 && dockerStatus(error) !== 404) throw error;
    }
  }

  async function remove(ref: string): Promise<void> {
    let info: ContainerInspectInfo;
    try {
      info = await owned(ref);
    } catch (error) {
      if (error instanceof HttpError && error.status === 404) return;
      throw error;
    }
    try {
      await call(`removal of ${ref}`, (abortSignal) => docker.getContainer(info.Id).remove({ force: true, v: true, abortSignal }));
    } catch (error) {
      // 404: gone meanwhile; 409: a removal is already under way.
      if (dockerStatus(error) !== 404 && dockerStatus(error) !== 409) throw error;
    }
  }

  async function listOwned(): Promise<OwnedContainer[]> {
    const filters = { label: [`${LABELS.instance}=${instanceId}`] };
    const listed = await call('the container list', (abortSignal) => docker.listContainers({ all: true, filters, abortSignal }));
    return listed.map(toOwnedContainer).filter((container) => container !== undefined);
  }

  async function readUsage(id: string, timeoutMs: number): Promise<ContainerUsage> {
    // @types/dockerode's stats() options lack abortSignal, which dockerode passes on.
    const answer = await call(
      `stats of ${id}`,
      (abortSignal) => docker.getContainer(id).stats({ stream: false, 'one-shot': true, abortSignal } as { stream: false }),
      timeoutMs,
    );
    return toContainerUsage(answer);
  }

  async function stats(ref: string): Promise<ContainerUsage> {
    return readUsage((await owned(ref)).Id, requestTimeoutMs);
  }

  async function usageOf(id: string, timeoutMs: number): Promise<ContainerUsage> {
    if (typeof id !== 'string' || !CONTAINER_REF.test(id)) throw invalidParameterValue(`${JSON.stringify(id)} is not a container id`);
    return readUsage(id, timeoutMs);
  }

  async function processIds(ref: string, timeoutMs = requestTimeoutMs): Promise<number[]> {
    const info = await owned(ref);
    // `ps -o pid` on the host, limited by the engine to the container's processes.
    const listed: { Titles: string[]; Processes: string[][] } = await call(
      `top of ${ref}`,
      (abortSignal) => docker.getContainer(info.Id).top({ ps_args: '-o pid', abortSignal }),
      timeoutMs,
    );
    const column = listed.Titles.indexOf('PID');
    return listed.Processes.map((row) => Number(row[column])).filter((pid) => Number.isSafeInteger(pid) && pid > 0);
  }

  return {
    start,
    async inspect(ref) {
      return toContainerStatus(await owned(ref))!;
    },
    wait,
    logs,
    stop,
    remove,
    listOwned,
    stats,
    usageOf,
    processIds,
    available: () => dockerAvailable(docker, Math.min(requestTimeoutMs, 2_000)),
  };
}
