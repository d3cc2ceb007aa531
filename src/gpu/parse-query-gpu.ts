import type { GpuDevice, SkippedLine } from './gpu-types.ts';
import { isMissing, readMebibytes, readNumber, readQueryRows } from './smi-csv.ts';

export const QUERY_GPU_FIELDS = [
  'index',
  'uuid',
  'name',
  'memory.total',
  'memory.used',
  'memory.free',
  'utilization.gpu',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'mig.mode.current',
] as const;
type QueryGpuField = (typeof QUERY_GPU_FIELDS)[number];

/** A GPU as `--query-gpu` reports it: everything but its MIG devices, which `-L` lists. */
export type GpuReading = Omit<GpuDevice, 'migDevices'>;

function readMigMode(value: string): GpuReading['migMode'] {
  if (/^enabled$/i.test(value)) return 'enabled';
  if (/^disabled$/i.test(value)) return 'disabled';
  return null;
}

function whyNotAGpu(row: Record<QueryGpuField, string>): string | undefined {
  if (!/^\d+$/.test(row.index)) return `index "${row.index}" is not a number`;
  if (!/^GPU-[0-9A-Za-z-]+$/.test(row.uuid)) return `uuid "${row.uuid}" is not a GPU UUID`;
  if (isMissing(row.name)) return 'the GPU has no name';
  return undefined;
}

const ratio = (percent: number | null) => (percent === null ? null : percent / 100);

/** Parses `nvidia-smi --query-gpu=<QUERY_GPU_FIELDS> --format=csv,noheader,nounits` (or a capture with a header). */
export function parseQueryGpu(text: string): { gpus: GpuReading[]; skipped: SkippedLine[] } {
  const { rows, skipped } = readQueryRows(text, QUERY_GPU_FIELDS);
  const gpus: GpuReading[] = [];
  for (const { line, values: row } of rows) {
    const problem = whyNotAGpu(row);
    if (problem) {
      skipped.push({ line, reason: problem });
      continue;
    }
    gpus.push({
      index: Number(row.index),
      uuid: row.uuid,
      name: row.name,
      memoryTotal: readMebibytes(row['memory.total']),
      memoryUsed: readMebibytes(row['memory.used']),
      memoryFree: readMebibytes(row['memory.free']),
      utilization: ratio(readNumber(row['utilization.gpu'])),
      temperature: readNumber(row['temperature.gpu']),
      powerDraw: readNumber(row['power.draw']),
      powerLimit: readNumber(row['power.limit']),
      migMode: readMigMode(row['mig.mode.current']),
    });
  }
  return { gpus, skipped };
}
