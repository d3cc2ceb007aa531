/** Whether sort key `a` comes before `b`: compared number by number, the first difference decides. */
export function comesBefore(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}
