import type { SkippedLine } from './gpu-types.ts';

export const MIB = 1024 * 1024;

/** `[N/A]`, `[Not Supported]`, `[Unknown Error]`, `[Requested functionality has been deprecated]`, `N/A`, empty. */
const MISSING = /^(\[[^\]]*\]|N\/A|)$/i;
const NUMBER = /^(-?\d+(?:\.\d+)?)(?:\s*(?:MiB|W|%|C|MHz))?$/;

/** A reading as a number, or null when nvidia-smi could not give it; tolerates the units `--format=csv` adds. */
export function readNumber(value: string): number | null {
  if (MISSING.test(value)) return null;
  const match = NUMBER.exec(value);
  return match ? Number(match[1]) : null;
}

export function readMebibytes(value: string): number | null {
  const mebibytes = readNumber(value);
  return mebibytes === null ? null : Math.round(mebibytes * MIB);
}

export function isMissing(value: string): boolean {
  return MISSING.test(value);
}

export interface QueryRows<Field extends string> {
  rows: Array<{ line: string; values: Record<Field, string> }>;
  skipped: SkippedLine[];
}

const headerName = (cell: string) => cell.replace(/\s*\[[^\]]*\]$/, '');

/**
 * Reads the output of `nvidia-smi --query-*=<fields> --format=csv[,noheader][,nounits]`: a line per row,
 * cells split on commas (nvidia-smi never quotes). Without a header the cells are `fields` in order; with one
 * (`--format=csv`, as in recorded captures) each field is found by name, so extra columns do no harm.
 * `aliases` maps a header's name to the field asked for (nvidia-smi answers `used_memory` as `used_gpu_memory`).
 */
export function readQueryRows<Field extends string>(
  text: string,
  fields: readonly Field[],
  aliases: Record<string, Field> = {},
): QueryRows<Field> {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const header = lines[0]?.split(',').map((cell) => aliases[headerName(cell.trim())] ?? headerName(cell.trim()));
  const hasHeader = header !== undefined && fields.every((field) => header.includes(field));
  const columns: readonly string[] = hasHeader ? header : fields;
  const rows: QueryRows<Field>['rows'] = [];
  const skipped: SkippedLine[] = [];
  for (const line of hasHeader ? lines.slice(1) : lines) {
    const cells = line.split(',').map((cell) => cell.trim());
    if (cells.length !== columns.length) {
      skipped.push({ line, reason: `expected ${columns.length} comma-separated fields, found ${cells.length}` });
      continue;
    }
    const values = Object.fromEntries(fields.map((field) => [field, cells[columns.indexOf(field)]!])) as Record<Field, string>;
    rows.push({ line, values });
  }
  return { rows, skipped };
}
