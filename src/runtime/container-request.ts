/** What a container is for; part of its name and labels. */
export const WORKLOAD_KINDS = ['job', 'deployment', 'notebook'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export const NETWORK_MODES = ['bridge', 'none', 'host'] as const;
export type NetworkMode = (typeof NETWORK_MODES)[number];

export interface BindMount {
  /** An absolute, normalized host path: inside one of Trainyard's mount roots unless the project's policy allows it. */
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

export interface GpuAssignment {
  /** The allocated devices, by UUID (`GPU-...`, `MIG-...`), never by index or count. */
  uuids: string[];
  /** Simulated GPUs only set NVIDIA_VISIBLE_DEVICES: the engine is never asked for the nvidia driver. */
  simulated: boolean;
}

/** Everything the runtime needs to create one workload's container; validated by buildCreateOptions. */
export interface ContainerRequest {
  kind: WorkloadKind;
  /** The workload's id (a job id, a deployment name): `[A-Za-z0-9][A-Za-z0-9_.-]*`, part of the container name. */
  id: string;
  project: string;
  image: string;
  /** The argv to run; omitted, the image's own CMD runs. Never a shell string. */
  command?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  gpus?: GpuAssignment;
  cpus?: number;
  memoryBytes?: number;
  pidsLimit?: number;
  /** Size of /dev/shm (PyTorch data loaders need more than Docker's 64 MB). */
  shmBytes?: number;
  /** The code snapshot, mounted at /workspace. */
  workspace?: { hostPath: string; readOnly: boolean };
  /** The output folder, mounted read-write at /outputs. */
  outputs?: { hostPath: string };
  /** Further bind mounts (dataset versions, model artifacts). */
  mounts?: BindMount[];
  /** Container TCP ports published on 127.0.0.1 at a port the engine picks (for the appliance's proxy). */
  ports?: number[];
  network?: NetworkMode;
  privileged?: boolean;
  /** Linux capabilities beyond Docker's defaults, e.g. `SYS_PTRACE`; only those the project's policy allows. */
  capAdd?: string[];
}

export const WORKSPACE_PATH = '/workspace';
export const OUTPUTS_PATH = '/outputs';
