import type { GpuProcess, SkippedLine } from './gpu-types.ts';
import { readMebibytes, readQueryRows } from './smi-csv.ts';

export const COMPUTE_APPS_FIELDS = ['gpu_uuid', 'pid', 'used_memory'] as const;

/** Parses `nvidia-smi --query-compute-apps=gpu_uuid,pid,used_memory --format=csv,noheader,nounits`. */
export function parseComputeApps(text: string): { processes: GpuProcess[]; skipped: SkippedLine[] } {
  // Some drivers print this sentence instead of nothing when no process holds a GPU.
  const { rows, skipped } = readQueryRows(text.replace(/^\s*No running (compute )?processes found\s*$/gim, ''), COMPUTE_APPS_FIELDS, {
    used_gpu_memory: 'used_memory',
  });
  const processes: GpuProcess[] = [];
  for (const { line, values } of rows) {
    if (!/^(GPU|MIG)-[0-9A-Za-z/-]+$/.test(values.gpu_uuid)) skipped.push({ line, reason: `gpu_uuid "${values.gpu_uuid}" is not a GPU UUID` });
    else if (!/^\d+$/.test(values.pid)) skipped.push({ line, reason: `pid "${values.pid}" is not a number` });
    else processes.push({ pid: Number(values.pid), gpuUuid: values.gpu_uuid, usedMemory: readMebibytes(values.used_memory) });
  }
  return { processes, skipped };
}
