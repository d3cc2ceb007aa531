import type { Audit } from '../audit/audit.ts';
import type { Projects } from '../auth/projects.ts';
import type { UserRecord } from '../auth/user-queries.ts';
import type { Users } from '../auth/users.ts';
import type { Db } from '../db/connection.ts';
import type { Bus } from '../lib/bus.ts';
import { formatBytes } from '../lib/byte-size.ts';
import { conflict, invalidState, notFound } from '../lib/errors.ts';
import type { Caller, Registry } from '../registry/registry.ts';
import {
  ENDED_STATES,
  findDeployment,
  findDeploymentByName,
  insertDeployment,
  insertDeploymentEvent,
  listDeploymentEvents,
  listDeployments,
  listLiveDeployments,
  nameTaken,
  updateLiveDeployment,
  type DeploymentChanges,
  type DeploymentEventKind,
  type DeploymentEventRecord,
  type DeploymentRecord,
  type DeploymentState,
} from './deployment-queries.ts';
import type { DeploymentRequest, DeploymentSettings } from './deployment-request.ts';
import { findServedVersion, modelFolderOf, type ModelFolder } from './model-folder.ts';
import { parseServedModel, type ServedModel } from './model-uri.ts';
import type { ServingTarget, VersionUpstreams } from './serving-target.ts';

export type { DeploymentEventRecord, DeploymentRecord, DeploymentState };

declare module '../lib/bus.ts' {
  interface BusEvents {
    /** A deployment was created, changed state or version, or was undeployed. */
    'deployment.changed': { deployment: DeploymentRecord };
    /** An editor asked to go back to the previous version; the deployment manager rolls it out. */
    'deployment.rollback-requested': { deployment: DeploymentRecord; to: ModelFolder; by: string };
    /** An editor promoted the canary (it takes all calls) or rolled it back (the serving version takes them all again). */
    'deployment.canary-decided': { deployment: DeploymentRecord; promote: boolean; by: string };
  }
}

/** One replica as the deployment manager knows it. */
export interface ReplicaStatus {
  jobId: number;
  slot: number;
  version: number;
  /** Answered its readiness probe and has not failed its liveness probes since. */
  ready: boolean;
  /** Where the proxy reaches it, once ready. */
  url: string | null;
}

/** What the deployment manager reports of a deployment: kept in memory, asked on every proxied call. */
export interface DeploymentStatus {
  /** The ready replicas of the serving version: what the proxy sends calls to. */
  upstreams: string[];
  replicas: ReplicaStatus[];
  /** The version being rolled out (an alias moved, or a rollback), while it is. */
  rollout: number | null;
  /** The rollout once its replicas are ready and take their share of the calls, until promoted or rolled back. */
  canary: (VersionUpstreams & { weight: number }) | null;
}

const settingsOf = ({ public: open, canaryWeight, sampleRate, sampleMaxBytes }: DeploymentRecord): Required<DeploymentSettings> => ({ public: open, canaryWeight, sampleRate, sampleMaxBytes });

/** "private, canary 20% of calls, samples 10% of calls (64 KB per body)", as the timeline reads. */
function describeSettings({ public: open, canaryWeight, sampleRate, sampleMaxBytes }: Required<DeploymentSettings>): string {
  const canary = canaryWeight === null ? 'no canary' : `canary ${canaryWeight}% of calls`;
  const sampling = sampleRate === 0 ? 'no sampling' : `samples ${Number((sampleRate * 100).toPrecision(3))}% of calls (${formatBytes(sampleMaxBytes)} per body)`;
  return `${open ? 'public' : 'private'}, ${canary}, ${sampling}`;
}

const NO_STATUS: DeploymentStatus = Object.freeze({ upstreams: [], replicas: [], rollout: null, canary: null });
export const isEnded = (state: DeploymentState) => ENDED_STATES.includes(state);

export interface Deployments {
  /** Creates a deployment in a project where the caller is an editor, serving a model version they may see. */
  create(caller: Caller, request: DeploymentRequest & { image: string }): Promise<DeploymentRecord>;
  /** The deployments `user` may see, live ones unless `ended`; of one project when it is named. */
  list(user: UserRecord, filter: { project?: string; ended: boolean }): DeploymentRecord[];
  /** The deployment holding `name`, else the latest that held it; 404 when none the user may see. */
  get(user: UserRecord, name: string): DeploymentRecord;
  /** The live deployment holding `name`, for an editor of its project (403 for others who see it, 409 once it ended). */
  editable(user: UserRecord, name: string): DeploymentRecord;
  /** Changes who may call it, its canary weight or its sampling; the proxy applies them to the next call. */
  configure(caller: Caller, name: string, settings: DeploymentSettings): DeploymentRecord;
  /** The latest events, oldest first. */
  events(id: number, limit?: number): DeploymentEventRecord[];
  status(id: number): DeploymentStatus;
  /** Stops serving: the state becomes `stopped` and the manager cancels the replicas; the history stays. */
  undeploy(caller: Caller, name: string): DeploymentRecord;
  /**
   * Asks for the previous version back; the manager rolls it out as it does a moved alias (409 while a rollout runs).
   * While a canary takes its share of the calls, rolls the canary back instead: the serving version takes them all.
   */
  rollback(caller: Caller, name: string): Promise<DeploymentRecord>;
  /** Moves all traffic to the canary (409 when none takes calls). */
  promote(caller: Caller, name: string): DeploymentRecord;
  /** For the proxy: the deployment now holding `name`, with its ready upstreams. In memory. */
  target(name: string): ServingTarget | undefined;

  // The deployment manager's side.
  live(): DeploymentRecord[];
  byId(id: number): DeploymentRecord | undefined;
  /** Changes a live deployment, with an event; a change of state is published. Undefined once it has ended. */
  update(id: number, changes: DeploymentChanges, event?: { kind: DeploymentEventKind; message: string }): DeploymentRecord | undefined;
  record(id: number, kind: DeploymentEventKind, message: string): void;
  report(id: number, status: DeploymentStatus): void;
  /** The version `model` names and its folder, read with the rights of the deployment's creator. */
  folderOf(deployment: DeploymentRecord, model: ServedModel): Promise<ModelFolder>;
}

export interface DeploymentsDeps {
  db: Db;
  now: () => number;
  bus: Bus;
  projects: Projects;
  users: Users;
  registry: Registry;
  audit: Audit;
  /** The artifact store's root: model folders are found below it. */
  artifactsRoot: string;
}

export function createDeployments(deps: DeploymentsDeps): Deployments {
  const { db, now, bus, projects, users, registry, audit, artifactsRoot } = deps;
  const statuses = new Map<number, DeploymentStatus>();
  /** The live deployments by name, for target(): loaded on first use (the database is migrated by then). */
  let byName: Map<string, DeploymentRecord> | undefined;
  const liveByName = () => (byName ??= new Map(listLiveDeployments(db).map((deployment) => [deployment.name, deployment])));
  /** What target() answered, until a deployment or its replicas change. */
  const targets = new Map<string, ServingTarget>();
  const setLive = (deployment: DeploymentRecord) => {
    liveByName().set(deployment.name, deployment);
    targets.clear();
  };

  const missing = (name: string) => notFound(`no deployment named "${name}"`);
  const auditAs = (caller: Caller, action: string, deployment: DeploymentRecord, detail: Record<string, unknown> = {}) =>
    audit.record({ actor: caller.user.username, ...(caller.ip && { ip: caller.ip }), action, target: deployment.name, detail });

  const record = (id: number, kind: DeploymentEventKind, message: string) => insertDeploymentEvent(db, { deploymentId: id, at: now(), kind, message });

  const changed = (deployment: DeploymentRecord) => {
    if (isEnded(deployment.state)) {
      if (liveByName().get(deployment.name)?.id === deployment.id) liveByName().delete(deployment.name);
      statuses.delete(deployment.id);
      targets.clear();
    } else {
      setLive(deployment);
    }
    bus.publish('deployment.changed', { deployment });
  };

  const update: Deployments['update'] = (id, changes, event) => {
    const before = findDeployment(db, id);
    const firstReady = before?.readyAt === null && (changes.state === 'ready' || changes.state === 'degraded');
    const updated = db.transaction(() => {
      const after = updateLiveDeployment(db, id, { ...changes, ...(firstReady && { readyAt: now() }), updatedAt: now() });
      if (after && event) record(id, event.kind, event.message);
      return after;
    });
    if (updated) {
      if (before?.state !== updated.state || before.version !== updated.version) changed(updated);
      else setLive(updated);
    }
    return updated;
  };

  const get = (user: UserRecord, name: string) => {
    const found = findDeploymentByName(db, name);
    if (!found) throw missing(name);
    projects.authorizeId(user, found.projectId, 'viewer', () => missing(name));
    return found;
  };

  /** The live deployment holding `name`, for an editor of its project. */
  const editable = (user: UserRecord, name: string) => {
    const found = get(user, name);
    projects.authorizeId(user, found.projectId, 'editor');
    if (isEnded(found.state)) throw invalidState(`deployment "${name}" is not running: it ${found.state === 'failed' ? `failed (${found.reason})` : 'was stopped'}`);
    return found;
  };

  function decideCanary(caller: Caller, deployment: DeploymentRecord, version: number, promote: boolean): void {
    record(deployment.id, 'rollout', `${promote ? 'promotion' : 'rollback'} of the canary (version ${version}) asked by ${caller.user.username}`);
    auditAs(caller, promote ? 'deployment.promote' : 'deployment.rollback', deployment, { from: deployment.version, canary: version });
    bus.publish('deployment.canary-decided', { deployment, promote, by: caller.user.username });
  }

  const creatorOf = (deployment: DeploymentRecord): Caller => {
    const user = users.byId(deployment.createdBy);
    if (!user || user.disabledAt !== null) throw notFound(`the user who created deployment "${deployment.name}" no longer exists or is disabled`);
    return { user };
  };

  return {
    async create(caller, request) {
      const { project } = projects.authorize(caller.user, request.project, 'editor');
      const model = parseServedModel(request.model);
      const folder = await modelFolderOf(artifactsRoot, findServedVersion(registry, caller, model));
      if (nameTaken(db, request.name)) throw conflict(`a deployment named "${request.name}" already exists: undeploy it first, or pick another name`);
      const at = now();
      const deployment = db.transaction(() => {
        const created = insertDeployment(db, {
          projectId: project.id,
          name: request.name,
          modelUri: request.model,
          modelName: model.name,
          alias: 'alias' in model ? model.alias : null,
          version: folder.version,
          aliasVersion: 'alias' in model ? folder.version : null,
          image: request.image,
          command: request.command ?? null,
          port: request.port,
          env: request.env,
          gpus: request.gpus,
          gpuMemory: request.gpuMemory ?? null,
          cpus: request.cpus ?? null,
          memory: request.memory ?? null,
          replicas: request.replicas,
          healthPath: request.healthPath,
          readinessTimeoutMs: request.readinessTimeout,
          public: request.public,
          canaryWeight: request.canaryWeight,
          sampleRate: request.sampleRate,
          sampleMaxBytes: request.sampleMaxBytes,
          state: 'pending',
          reason: 'waiting for its replicas to be placed',
          createdBy: caller.user.id,
          createdAt: at,
          updatedAt: at,
        });
        record(created.id, 'state', `created by ${caller.user.username} from ${request.model} (version ${folder.version})`);
        return created;
      });
      auditAs(caller, 'deployment.create', deployment, { project: project.name, model: request.model, version: folder.version, image: deployment.image, ...settingsOf(deployment) });
      changed(deployment);
      return deployment;
    },

    list(user, { project, ended }) {
      const projectIds = project === undefined ? projects.visibleIds(user) : [projects.authorize(user, project, 'viewer').project.id];
      return listDeployments(db, { ended, ...(projectIds && { projectIds }) });
    },

    get,
    editable,

    configure(caller, name, settings) {
      const found = editable(caller.user, name);
      const message = `settings changed by ${caller.user.username}: ${describeSettings({ ...settingsOf(found), ...settings })}`;
      const configured = update(found.id, settings, { kind: 'settings', message });
      if (!configured) throw invalidState(`deployment "${name}" ended meanwhile`);
      auditAs(caller, 'deployment.configure', configured, settings);
      // The deployment manager applies a new canary weight on its next step.
      changed(configured);
      return configured;
    },

    events: (id, limit = 100) => listDeploymentEvents(db, id, limit),
    status: (id) => statuses.get(id) ?? NO_STATUS,

    undeploy(caller, name) {
      const found = editable(caller.user, name);
      const stopped = update(found.id, { state: 'stopped', reason: `undeployed by ${caller.user.username}` }, { kind: 'state', message: `undeployed by ${caller.user.username}` });
      if (!stopped) throw invalidState(`deployment "${name}" ended meanwhile`);
      auditAs(caller, 'deployment.undeploy', stopped);
      return stopped;
    },

    async rollback(caller, name) {
      const found = editable(caller.user, name);
      const canary = statuses.get(found.id)?.canary ?? null;
      if (canary !== null) {
        decideCanary(caller, found, canary.version, false);
        return found;
      }
      const rollout = statuses.get(found.id)?.rollout ?? null;
      if (rollout !== null) throw invalidState(`deployment "${name}" is rolling out version ${rollout}: roll back once it is done`);
      if (found.previousVersion === null) throw invalidState(`deployment "${name}" has served no other version to roll back to`);
      const to = await modelFolderOf(artifactsRoot, findServedVersion(registry, caller, { name: found.modelName, version: found.previousVersion }));
      statuses.set(found.id, { ...(statuses.get(found.id) ?? NO_STATUS), rollout: to.version });
      record(found.id, 'rollout', `rollback from version ${found.version} to version ${to.version} asked by ${caller.user.username}`);
      auditAs(caller, 'deployment.rollback', found, { from: found.version, to: to.version });
      bus.publish('deployment.rollback-requested', { deployment: found, to, by: caller.user.username });
      return found;
    },

    promote(caller, name) {
      const found = editable(caller.user, name);
      const { rollout, canary } = statuses.get(found.id) ?? NO_STATUS;
      if (canary !== null) {
        decideCanary(caller, found, canary.version, true);
        return found;
      }
      if (rollout !== null) throw invalidState(`deployment "${name}" is rolling out version ${rollout}: its replicas are not all ready yet, so there is no canary to promote`);
      throw invalidState(`deployment "${name}" has no canary to promote: one runs when its alias moves and canaryWeight is set`);
    },

    target(name) {
      const cached = targets.get(name);
      if (cached) return cached;
      const deployment = liveByName().get(name);
      if (!deployment) return undefined;
      const { upstreams, canary } = statuses.get(deployment.id) ?? NO_STATUS;
      const target: ServingTarget = {
        id: deployment.id,
        name,
        projectId: deployment.projectId,
        public: deployment.public,
        version: deployment.version,
        upstreams,
        canary,
        sampling: { rate: deployment.sampleRate, maxBytes: deployment.sampleMaxBytes },
      };
      targets.set(name, target);
      return target;
    },

    live: () => listLiveDeployments(db),
    byId: (id) => findDeployment(db, id),
    update,
    record,
    report(id, status) {
      if (status.replicas.length === 0 && status.rollout === null) statuses.delete(id);
      else statuses.set(id, status);
      targets.clear();
    },
    async folderOf(deployment, model) {
      return modelFolderOf(artifactsRoot, findServedVersion(registry, creatorOf(deployment), model));
    },
  };
}
