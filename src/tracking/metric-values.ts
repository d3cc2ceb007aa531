/**
 * Metric values on the wire. MLflow's JSON is protobuf's: NaN and the infinities travel as the strings "NaN",
 * "Infinity" and "-Infinity" (JSON has no literal for them), and numeric text is accepted for a double.
 * SQLite stores NaN as NULL, so a NULL value read back is NaN.
 */
const SPECIAL = new Map([
  ['NaN', Number.NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
]);
const NUMERIC_TEXT = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i;

/** The double a request carries, or undefined when it is not one. */
export function parseMetricValue(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw;
  if (typeof raw !== 'string') return undefined;
  const special = SPECIAL.get(raw.trim());
  if (special !== undefined) return special;
  return NUMERIC_TEXT.test(raw) ? Number(raw) : undefined;
}

/** A stored value as MLflow's JSON writes it. */
export function metricValueJson(value: number | null): number | string {
  if (value === null || Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}
