/** Prints rows as aligned columns, or the value as JSON when the caller asked for `--json`. */
export function printList<T>(json: boolean, value: unknown, rows: T[], columns: Array<[string, (row: T) => unknown]>): void {
  if (json) {
    printJson(value);
    return;
  }
  const cells = [columns.map(([title]) => title), ...rows.map((row) => columns.map(([, get]) => String(get(row) ?? '')))];
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index]!.length)));
  for (const line of cells) {
    process.stdout.write(`${line.map((cell, index) => cell.padEnd(widths[index]!)).join('  ').trimEnd()}\n`);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
