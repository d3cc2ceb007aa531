import { checkFeasible } from '../../src/scheduler/feasibility.ts';
import { DEFAULT_POLICY, type JobId, type Plan, type PlacementInput, type Resources } from '../../src/scheduler/placement-types.ts';

/**
 * What must hold of any plan, checked from the input and the plan alone (not from the planner's own bookkeeping):
 * the list of broken rules, empty when the plan is sound.
 */

const EPSILON = 1e-6;

interface UnitUse {
  whole: boolean;
  reserved: number;
  memoryTotal: number;
  /** What a new reservation may take, by the rule in the README: as reported, less reservations not yet in use. */
  available: number;
}

function unitUses(input: PlacementInput): Map<string, UnitUse> {
  const uses = new Map<string, UnitUse>();
  for (const gpu of input.gpus) uses.set(gpu.uuid, { whole: false, reserved: 0, memoryTotal: gpu.memoryTotal, available: 0 });
  for (const job of input.running) {
    for (const uuid of job.gpuUuids) {
      const use = uses.get(uuid);
      if (!use) continue;
      if (job.resources.gpuMemory === undefined) use.whole = true;
      else use.reserved += job.resources.gpuMemory;
    }
  }
  for (const gpu of input.gpus) {
    const use = uses.get(gpu.uuid)!;
    const used = gpu.memoryUsedByJobs ?? 0;
    use.available = use.whole ? 0 : Math.max(0, gpu.memoryFree - Math.max(0, use.reserved - used));
  }
  return uses;
}

const shareOn = (resources: Resources, memoryTotal: number) =>
  resources.gpuMemory === undefined ? (resources.gpus ?? 0) : Math.min(1, resources.gpuMemory / memoryTotal);

function quotaBreaks(input: PlacementInput, plan: Plan, uses: Map<string, UnitUse>): string[] {
  const { quotas } = input;
  if (!quotas) return [];
  const held = new Map<string, number>();
  const add = (key: string, amount: number) => held.set(key, (held.get(key) ?? 0) + amount);
  const memoryOf = (uuids: string[]) => uses.get(uuids[0] ?? '')?.memoryTotal ?? 0;
  for (const job of input.running) {
    const share = job.resources.gpuMemory === undefined ? Math.max(job.gpuUuids.length, job.resources.gpus ?? 0) : shareOn(job.resources, memoryOf(job.gpuUuids));
    add(`user ${job.user}`, share);
    add(`project ${job.project}`, share);
  }
  const starters = new Set<string>();
  for (const start of plan.start) {
    const job = input.queue.find((queued) => queued.id === start.jobId)!;
    const share = shareOn(job.resources, memoryOf(start.gpuUuids));
    if (share === 0) continue;
    add(`user ${job.user}`, share);
    add(`project ${job.project}`, share);
    starters.add(`user ${job.user}`).add(`project ${job.project}`);
  }
  return [...starters].flatMap((key) => {
    const [kind, name] = key.split(' ') as ['user' | 'project', string];
    const limit = kind === 'user' ? (quotas.users?.get(name) ?? quotas.gpusPerUser) : (quotas.projects?.get(name) ?? quotas.gpusPerProject);
    return limit !== undefined && held.get(key)! > limit + EPSILON ? [`${key} holds ${held.get(key)} GPUs, over ${limit}`] : [];
  });
}

export function planBreaks(input: PlacementInput, plan: Plan): string[] {
  const breaks: string[] = [];
  const uses = unitUses(input);
  const queued = new Map(input.queue.map((job) => [job.id, job]));
  const seen = new Map<JobId, number>();
  for (const { jobId } of [...plan.start, ...plan.waiting]) seen.set(jobId, (seen.get(jobId) ?? 0) + 1);
  for (const job of input.queue) if (seen.get(job.id) !== 1) breaks.push(`job ${job.id} is decided ${seen.get(job.id) ?? 0} times`);
  if (seen.size !== input.queue.length) breaks.push('the plan names jobs that are not queued');

  const wholeTaken = new Set<string>();
  const packed = new Map<string, number>();
  let cpus = 0;
  let memory = 0;
  for (const start of plan.start) {
    const job = queued.get(start.jobId)!;
    const { gpus = 0, gpuMemory } = job.resources;
    if (!checkFeasible(job.resources, input).ok) breaks.push(`job ${job.id} started though impossible`);
    cpus += job.resources.cpus;
    memory += job.resources.memory;
    if (gpuMemory !== undefined) {
      const uuid = start.gpuUuids[0]!;
      if (start.gpuUuids.length !== 1 || start.gpuMemory !== gpuMemory) breaks.push(`job ${job.id} packed wrongly`);
      packed.set(uuid, (packed.get(uuid) ?? 0) + gpuMemory);
      continue;
    }
    if (start.gpuUuids.length !== gpus || new Set(start.gpuUuids).size !== gpus) breaks.push(`job ${job.id} got ${start.gpuUuids.length} GPUs for ${gpus}`);
    for (const uuid of start.gpuUuids) {
      const use = uses.get(uuid);
      if (!use || use.whole || use.reserved > 0 || wholeTaken.has(uuid)) breaks.push(`job ${job.id} got ${uuid}, which is not free`);
      wholeTaken.add(uuid);
    }
  }
  for (const [uuid, bytes] of packed) {
    const use = uses.get(uuid);
    if (!use || wholeTaken.has(uuid) || bytes > use.available + EPSILON) breaks.push(`${uuid} oversubscribed: ${bytes} packed, ${use?.available} free`);
  }
  const hostCpus = input.host.cpus - input.running.reduce((sum, job) => sum + job.resources.cpus, 0);
  const hostMemory = input.host.memory - input.running.reduce((sum, job) => sum + job.resources.memory, 0);
  if (cpus > 0 && cpus > hostCpus + EPSILON) breaks.push(`${cpus} CPUs started, ${hostCpus} free`);
  if (memory > 0 && memory > hostMemory + EPSILON) breaks.push(`${memory} bytes of memory started, ${hostMemory} free`);
  breaks.push(...quotaBreaks(input, plan, uses));

  // A job said to wait for resources must not fit in what is left (claims for preempting jobs aside).
  const claims = plan.waiting.some((entry) => entry.code === 'preempting');
  const fitsLeft = ({ gpus = 0, gpuMemory, ...host }: Resources) =>
    host.cpus <= hostCpus - cpus &&
    host.memory <= hostMemory - memory &&
    (gpuMemory !== undefined
      ? [...uses].some(([uuid, use]) => !wholeTaken.has(uuid) && use.available - (packed.get(uuid) ?? 0) >= gpuMemory)
      : [...uses].filter(([uuid, use]) => !use.whole && use.reserved === 0 && !wholeTaken.has(uuid) && !packed.has(uuid)).length >= gpus);
  for (const entry of plan.waiting) {
    const job = queued.get(entry.jobId)!;
    if ((entry.code === 'impossible') === checkFeasible(job.resources, input).ok) breaks.push(`job ${job.id}: impossible is ${entry.code}`);
    if (entry.code === 'resources' && !claims && fitsLeft(job.resources)) breaks.push(`job ${job.id} waits for resources that are free`);
  }
  breaks.push(...preemptionBreaks(input, plan), ...reservationBreaks(input, plan));
  return breaks;
}

function preemptionBreaks(input: PlacementInput, plan: Plan): string[] {
  const breaks: string[] = [];
  const victims = new Set<JobId>();
  for (const decision of plan.preempt) {
    const victim = input.running.find((job) => job.id === decision.jobId);
    const waiting = plan.waiting.find((entry) => entry.jobId === decision.forJobId);
    const forJob = input.queue.find((job) => job.id === decision.forJobId);
    if (!victim || !forJob || victims.has(victim.id)) breaks.push(`preempting ${decision.jobId}: no such job, or twice`);
    else if (!victim.preemptible || victim.stopping || victim.priority >= forJob.priority) breaks.push(`preempting ${victim.id} for ${forJob.id}`);
    if (waiting?.code !== 'preempting') breaks.push(`job ${decision.forJobId} preempts but does not wait for it`);
    victims.add(decision.jobId);
  }
  return breaks;
}

/** One head at most; nobody of lower priority starts on its GPUs unless sure to end before they are due. */
function reservationBreaks(input: PlacementInput, plan: Plan): string[] {
  const heads = plan.waiting.filter((entry) => entry.reserved);
  if (heads.length > 1) return ['more than one job holds a reservation'];
  const behind = plan.waiting.filter((entry) => entry.code === 'behind');
  const head = heads[0];
  if (!head) return behind.length > 0 ? ['jobs wait behind nobody'] : [];
  const headJob = input.queue.find((job) => job.id === head.jobId)!;
  const breaks: string[] = [];
  if (head.code !== 'resources') breaks.push(`the head waits for ${head.code}`);
  for (const entry of behind) {
    if (input.queue.find((job) => job.id === entry.jobId)!.priority > headJob.priority) breaks.push(`job ${entry.jobId} waits behind a lower priority`);
  }
  if (headJob.resources.gpuMemory !== undefined) return breaks;
  const maxOvertakeMs = input.policy?.maxOvertakeMs ?? DEFAULT_POLICY.maxOvertakeMs;
  const due = head.reserved!.expectedAt ?? Math.max(input.now, headJob.submittedAt + maxOvertakeMs);
  const reserved = new Set(head.reserved!.gpuUuids);
  for (const start of plan.start) {
    const job = input.queue.find((queued) => queued.id === start.jobId)!;
    if (job.priority >= headJob.priority || !start.gpuUuids.some((uuid) => reserved.has(uuid))) continue;
    if (job.timeLimitMs === undefined || input.now + job.timeLimitMs > due) breaks.push(`job ${job.id} takes GPUs held for ${headJob.id}`);
  }
  return breaks;
}
