import { WORKLOAD_KINDS, type WorkloadKind } from './container-request.ts';

/** Labels on every container Trainyard creates; the instance label keeps two appliances on one engine apart. */
export const LABELS = {
  kind: 'dev.trainyard.kind',
  id: 'dev.trainyard.id',
  project: 'dev.trainyard.project',
  instance: 'dev.trainyard.instance',
} as const;

/** Which workload a container belongs to, read back from its labels. */
export interface Workload {
  kind: WorkloadKind;
  id: string;
  project: string;
}

export function workloadLabels(workload: Workload, instanceId: string): Record<string, string> {
  return {
    [LABELS.kind]: workload.kind,
    [LABELS.id]: workload.id,
    [LABELS.project]: workload.project,
    [LABELS.instance]: instanceId,
  };
}

/** The workload named by a container's labels, or undefined when they are not Trainyard's. */
export function readWorkload(labels: Record<string, string> | null | undefined): Workload | undefined {
  const kind = labels?.[LABELS.kind];
  const id = labels?.[LABELS.id];
  const project = labels?.[LABELS.project];
  if (!kind || !id || project === undefined || !(WORKLOAD_KINDS as readonly string[]).includes(kind)) return undefined;
  return { kind: kind as WorkloadKind, id, project };
}

export function containerName(workload: Pick<Workload, 'kind' | 'id'>): string {
  return `trainyard-${workload.kind}-${workload.id}`;
}
