import type { JobLogs } from '../scheduler/job-logs.ts';
import type { JobRecord, Jobs, JobState } from '../scheduler/jobs.ts';
import { ENDED_STATES, type DeploymentRecord, type DeploymentState } from './deployment-queries.ts';
import type { Deployments } from './deployments.ts';
import type { ModelFolder } from './model-folder.ts';
import { replicaIdentity, replicaSubmission } from './replica-jobs.ts';
import { monotonic, probeReplica, seconds, type ProbeDeps, type Replica } from './replica-probes.ts';

export interface ControllerDeps extends ProbeDeps {
  deployments: Deployments;
  jobs: Jobs;
  jobLogs: JobLogs;
  /** Asks for another step, now or after `ms` (a probe settled, a back-off or a drain ends). */
  wake(ms?: number): void;
}

export interface DeploymentController {
  /** Brings the replicas and the state in line with the deployment; `done` once it has ended and no replica is left. */
  step(): Promise<'active' | 'done'>;
  /** Rolls `to` out as a moved alias is rolled out (the deployments domain checked the request). */
  rollback(to: ModelFolder, by: string): void;
  /** Moves all calls to the canary, or back to the serving version, on the next step. */
  decideCanary(promote: boolean, by: string): void;
}

interface Rollout {
  version: number;
  path: string;
  why: string;
  /** An alias moved: once done or failed, the deployment has followed it to this version. */
  fromAlias: boolean;
  /** Its replicas are ready and take the deployment's canaryWeight share of the calls. */
  canary?: boolean;
  /** What an editor decided about the canary, for the next step to carry out. */
  decision?: { promote: boolean; by: string };
}

const UNFINISHED: JobState[] = ['queued', 'starting', 'running'];
const isEnded = (state: DeploymentState) => ENDED_STATES.includes(state);

/** How a replica's job ended, in words: "failed: exit code 137", "was cancelled: cancelled by mia". */
function endOf(job: JobRecord | undefined): string {
  if (!job) return 'vanished';
  if (job.state === 'succeeded') return `exited: ${job.reason}`;
  return `${job.state === 'failed' ? 'failed' : `was ${job.state.replace('_', ' ')}`}: ${job.reason}`;
}

/** Drives one deployment: replicas placed, probed, replaced with back-off; versions rolled out and rolled back. */
export function controlDeployment(deps: ControllerDeps, id: number): DeploymentController {
  const { deployments, jobs, jobLogs, timings, wake } = deps;
  const replicas = new Map<number, Replica>();
  const folders = new Map<number, string>();
  /** Per slot: restarts in a row, when the next may start, and the wait before it. */
  const backoff = new Map<number, { attempts: number; due: number; delay: number }>();
  let rollout: Rollout | undefined;
  let lastAliasCheck = -Infinity;
  let aliasProblem: string | undefined;

  const follow = (job: JobRecord): Replica => ({ jobId: job.id, ...replicaIdentity(job), ready: false, probing: false, livenessFailures: 0, lastLiveness: -Infinity });
  const occupied = (version: number, slot: number) => [...replicas.values()].some((r) => r.version === version && r.slot === slot && r.retired === undefined);
  const serving = (deployment: DeploymentRecord) => [...replicas.values()].filter((r) => r.version === deployment.version && r.retired === undefined && r.drainUntil === undefined);
  const inTraffic = (r: Replica) => r.ready && r.failure === undefined;

  function retire(replica: Replica, why: string): void {
    if (replica.retired !== undefined) return;
    replica.retired = why;
    replica.ready = false;
    jobs.cancelReplica(replica.jobId, why);
  }

  /** `why`, with the last lines the replica's container wrote. */
  function withLogs(replica: Replica, why: string): string {
    const lines = jobLogs
      .tail(replica.jobId, timings.logLines)
      .lines.filter((line) => line.stream !== 'system')
      .map((line) => line.text);
    return lines.length > 0 ? `${why}; its last log lines:\n${lines.join('\n')}` : why;
  }

  function fail(reason: string): void {
    rollout = undefined;
    deployments.update(id, { state: 'failed', reason }, { kind: 'state', message: `failed: ${reason}` });
    wake();
  }

  function abortRollout(deployment: DeploymentRecord, why: string): void {
    if (!rollout) return;
    const { version, fromAlias } = rollout;
    for (const replica of replicas.values()) if (replica.version === version) retire(replica, `the rollout of version ${version} failed`);
    rollout = undefined;
    const event = { kind: 'rollout' as const, message: `rollout of version ${version} failed: ${why}; version ${deployment.version} keeps serving` };
    deployments.update(id, fromAlias ? { aliasVersion: version } : {}, event);
  }

  /** Records why replica `slot` is down and when the next one starts: 1 s, 2 s, 4 s ... after the last that was ready long enough. */
  function restartLater(slot: number, what: string, why: string, readySince?: number): void {
    const { attempts } = backoff.get(slot) ?? { attempts: 0 };
    const previous = readySince !== undefined && monotonic() - readySince >= timings.backoffResetMs ? 0 : attempts;
    const delay = Math.min(timings.restartBaseMs * 2 ** previous, timings.restartMaxMs);
    backoff.set(slot, { attempts: previous + 1, due: monotonic() + delay, delay });
    deployments.record(id, 'replica', `${what} ${why}; a new one starts in ${seconds(delay)}`);
    wake(delay);
  }

  function ended(deployment: DeploymentRecord, replica: Replica): void {
    if (replica.retired !== undefined || isEnded(deployment.state)) return;
    const job = jobs.byId(replica.jobId);
    const why = replica.failure ?? endOf(job);
    if (rollout?.version === replica.version) abortRollout(deployment, withLogs(replica, `replica ${replica.slot} (job ${replica.jobId}) ${why}`));
    else if (replica.version !== deployment.version) return;
    else if (deployment.readyAt === null) fail(withLogs(replica, `replica ${replica.slot} (job ${replica.jobId}) ${why}`));
    else restartLater(replica.slot, `replica ${replica.slot} (job ${replica.jobId})`, why, replica.readySince);
  }

  /** A probe said the replica must go: before the first ready, the deployment fails; after it, the replica is replaced. */
  function failed(deployment: DeploymentRecord, replica: Replica): void {
    const why = `replica ${replica.slot} (job ${replica.jobId}) ${replica.failure}`;
    if (rollout?.version === replica.version) abortRollout(deployment, withLogs(replica, why));
    else if (replica.version === deployment.version && deployment.readyAt === null) fail(withLogs(replica, why));
    else if (!replica.replacing) {
      replica.replacing = true;
      jobs.cancelReplica(replica.jobId, `replaced: it ${replica.failure}`);
    }
  }

  async function folderOf(deployment: DeploymentRecord, version: number): Promise<string> {
    const known = folders.get(version);
    if (known) return known;
    const { path } = await deployments.folderOf(deployment, { name: deployment.modelName, version });
    folders.set(version, path);
    return path;
  }

  function submit(deployment: DeploymentRecord, slot: number, version: number, modelPath: string): void {
    const job = jobs.submitReplica(replicaSubmission(deployment, { slot, version, modelPath }));
    replicas.set(job.id, follow(job));
  }

  /** Every slot of the serving version (once its back-off is over) and of a rollout has a replica. */
  async function fill(deployment: DeploymentRecord): Promise<void> {
    for (let slot = 1; slot <= deployment.replicas; slot++) {
      if (occupied(deployment.version, slot) || (backoff.get(slot)?.due ?? 0) > monotonic()) continue;
      let path: string;
      try {
        path = await folderOf(deployment, deployment.version);
      } catch (error) {
        const why = `cannot start: ${(error as Error).message}`;
        if (deployment.readyAt === null) return fail(`replica ${slot} ${why}`);
        restartLater(slot, `replica ${slot}`, why);
        continue;
      }
      submit(deployment, slot, deployment.version, path);
    }
    for (let slot = 1; rollout && slot <= deployment.replicas; slot++) {
      if (!occupied(rollout.version, slot)) submit(deployment, slot, rollout.version, rollout.path);
    }
  }

  /** Every replica of the rollout is ready: traffic moves to them at once, the old ones stop after the drain. */
  function switchOver(deployment: DeploymentRecord, to: Rollout): void {
    const promoted = to.decision?.promote ? `, canary promoted by ${to.decision.by}` : '';
    const message = `switched traffic from version ${deployment.version} to version ${to.version} (${to.why}${promoted})`;
    const changes = { version: to.version, previousVersion: deployment.version, ...(to.fromAlias && { aliasVersion: to.version }) };
    if (!deployments.update(id, changes, { kind: 'rollout', message })) return;
    folders.set(to.version, to.path);
    const drainUntil = monotonic() + timings.drainMs;
    for (const replica of replicas.values()) if (replica.version === deployment.version) replica.drainUntil = drainUntil;
    rollout = undefined;
    backoff.clear();
    wake(timings.drainMs);
  }

  /** A moved alias with a canary weight: the new version takes its share of the calls until an editor decides. */
  const asCanary = (deployment: DeploymentRecord, to: Rollout) => to.fromAlias && deployment.canaryWeight !== null && to.decision === undefined;

  function startRollout(deployment: DeploymentRecord, to: Rollout): void {
    rollout = to;
    const then = asCanary(deployment, to) ? `it takes ${deployment.canaryWeight}% of the calls as a canary` : 'traffic moves';
    deployments.record(id, 'rollout', `rolling out version ${to.version} (${to.why}): ${deployment.replicas} new replica${deployment.replicas > 1 ? 's' : ''}, then ${then}`);
    wake();
  }

  function startCanary(deployment: DeploymentRecord, canary: Rollout): void {
    canary.canary = true;
    deployments.record(id, 'rollout', `version ${canary.version} takes ${deployment.canaryWeight}% of the calls as a canary (${canary.why}): promote it or roll it back`);
  }

  /** Rolled back: the canary's replicas stop and the serving version takes every call; the alias is followed again once it moves. */
  function endCanary(deployment: DeploymentRecord, canary: Rollout, by: string): void {
    for (const replica of replicas.values()) if (replica.version === canary.version) retire(replica, `the canary of version ${canary.version} was rolled back`);
    rollout = undefined;
    const message = `canary of version ${canary.version} rolled back by ${by}: version ${deployment.version} takes all calls again`;
    deployments.update(id, canary.fromAlias ? { aliasVersion: canary.version } : {}, { kind: 'rollout', message });
  }

  async function followAlias(deployment: DeploymentRecord & { alias: string }): Promise<void> {
    if (monotonic() - lastAliasCheck < timings.aliasPollMs) return;
    lastAliasCheck = monotonic();
    let found: ModelFolder;
    try {
      found = await deployments.folderOf(deployment, { name: deployment.modelName, alias: deployment.alias });
    } catch (error) {
      const problem = (error as Error).message;
      if (problem !== aliasProblem) deployments.record(id, 'rollout', `cannot follow ${deployment.modelName}@${deployment.alias}: ${problem}; version ${deployment.version} keeps serving`);
      aliasProblem = problem;
      return;
    }
    aliasProblem = undefined;
    if (found.version === deployment.aliasVersion || rollout) return;
    if (found.version === deployment.version) {
      deployments.update(id, { aliasVersion: found.version });
      return;
    }
    const why = `alias ${deployment.alias} moved from version ${deployment.aliasVersion} to ${found.version}`;
    startRollout(deployment, { version: found.version, path: found.path, why, fromAlias: true });
  }

  /** The state the replicas of the serving version make, with the reason people read. */
  function settle(deployment: DeploymentRecord): void {
    const own = serving(deployment).sort((a, b) => a.slot - b.slot);
    const ready = own.filter(inTraffic).length;
    const of = `${ready} of ${deployment.replicas} replica${deployment.replicas > 1 ? 's' : ''} ready, serving version ${deployment.version}`;
    const starting = own.find((r) => r.runningSince !== undefined && !inTraffic(r));
    const queued = own.map((r) => jobs.byId(r.jobId)).find((job) => job?.state === 'queued');
    const backingOff = [...backoff.entries()].find(([, { due }]) => due > monotonic());
    const waiting = starting
      ? `waiting for replica ${starting.slot} to answer GET ${deployment.healthPath}`
      : queued
        ? `replica ${replicaIdentity(queued).slot} is queued: ${queued.reason}`
        : backingOff
          ? `replica ${backingOff[0]} starts again after a back-off of ${seconds(backingOff[1].delay)}`
          : 'waiting for its replicas to be placed';
    const [state, reason]: [DeploymentState, string] =
      ready >= deployment.replicas ? ['ready', of] : ready > 0 ? ['degraded', of] : starting || deployment.readyAt !== null ? ['starting', waiting] : ['pending', waiting];
    if (state === deployment.state && reason === deployment.reason) return;
    deployments.update(id, { state, reason }, state === deployment.state ? undefined : { kind: 'state', message: `${state}: ${reason}` });
  }

  function report(deployment: DeploymentRecord): void {
    const urls = (of: Replica[]) =>
      of
        .filter((r) => inTraffic(r) && !isEnded(deployment.state))
        .sort((a, b) => a.slot - b.slot)
        .map((r) => r.url!);
    const upstreams = urls(serving(deployment));
    const { canaryWeight: weight } = deployment;
    const version = rollout?.canary ? rollout.version : undefined;
    const canary = version === undefined || weight === null ? null : { version, weight, upstreams: urls([...replicas.values()].filter((r) => r.version === version)) };
    const listed = [...replicas.values()].map((r) => ({ jobId: r.jobId, slot: r.slot, version: r.version, ready: inTraffic(r) && r.retired === undefined, url: r.url ?? null }));
    deployments.report(id, { upstreams, replicas: listed, rollout: rollout?.version ?? null, canary });
  }

  return {
    async step() {
      if (!deployments.byId(id)) return 'done';
      const running = new Map(jobs.replicasOf(id, UNFINISHED).map((job) => [job.id, job]));
      for (const job of running.values()) if (!replicas.has(job.id)) replicas.set(job.id, follow(job));
      for (const replica of [...replicas.values()]) {
        if (running.has(replica.jobId)) continue;
        replicas.delete(replica.jobId);
        ended(deployments.byId(id)!, replica);
      }
      const deployment = deployments.byId(id)!;
      if (isEnded(deployment.state)) {
        rollout = undefined;
        for (const replica of replicas.values()) retire(replica, deployment.state === 'failed' ? 'the deployment failed' : 'undeployed');
        report(deployment);
        return replicas.size === 0 ? 'done' : 'active';
      }
      for (const replica of replicas.values()) {
        if (replica.drainUntil !== undefined && replica.drainUntil <= monotonic()) retire(replica, `replaced by version ${deployment.version}`);
        else if (replica.version !== deployment.version && replica.version !== rollout?.version && replica.drainUntil === undefined) {
          retire(replica, `version ${replica.version} is not served any more`);
        }
        const job = running.get(replica.jobId);
        if (job?.state === 'running') probeReplica(deps, deployment, replica, job);
        if (replica.failure !== undefined && replica.retired === undefined) failed(deployment, replica);
      }
      const current = deployments.byId(id)!;
      if (isEnded(current.state)) return 'active';
      if (rollout?.decision?.promote === false) endCanary(current, rollout, rollout.decision.by);
      await fill(current);
      const target = rollout;
      if (target && [...replicas.values()].filter((r) => r.version === target.version && inTraffic(r)).length >= current.replicas) {
        if (!asCanary(current, target)) switchOver(current, target);
        else if (!target.canary) startCanary(current, target);
      }
      const latest = deployments.byId(id)!;
      if (!isEnded(latest.state)) {
        if (!rollout && latest.alias !== null && latest.readyAt !== null) await followAlias({ ...latest, alias: latest.alias });
        settle(latest);
      }
      report(deployments.byId(id)!);
      return 'active';
    },

    rollback(to, by) {
      const deployment = deployments.byId(id);
      if (!deployment || rollout) return;
      startRollout(deployment, { version: to.version, path: to.path, why: `rollback asked by ${by}`, fromAlias: false });
    },

    decideCanary(promote, by) {
      if (rollout?.canary) rollout.decision = { promote, by };
    },
  };
}
