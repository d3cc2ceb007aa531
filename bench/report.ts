/** What one benchmark measured: figures, each optionally set against a baseline from the same run and a target. */
export interface BenchResult {
  name: string;
  figures: Array<{
    label: string;
    value: number;
    unit: string;
    /** The same quantity for the baseline, measured in the same run on the same machine. */
    baseline?: number;
    /** From the issue, e.g. "< 1000 ms" or "<= 120 MB"; the verdict compares `value` against it. */
    target?: string;
    /** Every sample behind `value` (a median), to show how noisy the machine was. */
    samples?: number[];
  }>;
}

export type Figure = BenchResult['figures'][number];

/** The median of a non-empty list; the mean of the middle two for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** "OK" or "MISS" when the target reads like "< 1000 ms"; undefined when it cannot be read. */
export function verdict(value: number, target: string): 'OK' | 'MISS' | undefined {
  const match = /^\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)/.exec(target);
  if (!match) return undefined;
  const limit = Number(match[2]);
  const ok =
    match[1] === '<' ? value < limit : match[1] === '<=' ? value <= limit : match[1] === '>' ? value > limit : value >= limit;
  return ok ? 'OK' : 'MISS';
}

export function formatFigure(name: string, figure: Figure, labelWidth: number): string {
  const parts = [`${name}: ${figure.label.padEnd(labelWidth)}`, `${format(figure.value).padStart(7)} ${figure.unit.padEnd(3)}`];
  if (figure.baseline !== undefined) {
    const ratio = figure.baseline > 0 ? `${(figure.value / figure.baseline).toFixed(1)}x` : 'n/a';
    parts.push(`(baseline ${format(figure.baseline)} ${figure.unit}, ratio ${ratio})`.padEnd(36));
  }
  if (figure.target !== undefined) {
    const result = verdict(figure.value, figure.target);
    parts.push(`target ${figure.target}${result ? `  ${result}` : ''}`);
  }
  if (figure.samples && figure.samples.length > 1) {
    parts.push(`[n=${figure.samples.length}: ${figure.samples.map(format).join(' ')}]`);
  }
  return parts.join('   ');
}

/** One line per figure, e.g. `startup: first /health answer   412 ms   (baseline 58 ms, ratio 7.1x)   target < 1000 ms  OK`. */
export function printResult(result: BenchResult): void {
  const labelWidth = Math.max(0, ...result.figures.map((figure) => figure.label.length));
  for (const figure of result.figures) console.log(formatFigure(result.name, figure, labelWidth));
}
