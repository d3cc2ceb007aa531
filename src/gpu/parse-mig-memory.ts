import { readMebibytes } from './smi-csv.ts';

export interface MigMemory {
  total: number | null;
  used: number | null;
  free: number | null;
}

const KEY_VALUE = /^(.*?)\s+:\s?(.*)$/;
const GPU_SECTION = /^GPU [0-9A-Fa-f]+:[0-9A-Fa-f:.]+$/;
const MEMORY_HEADING = /^(Shared )?FB Memory Usage$/;

/**
 * The memory of each MIG device from `nvidia-smi -q` (text), by GPU UUID and then by the device's index —
 * the numbers `nvidia-smi -L` gives as "Device N". `--query-gpu` has no MIG devices and `-L` no memory.
 * The text nests by indentation: headings without a value open a block that deeper lines belong to.
 */
export function parseMigMemory(text: string): Map<string, Map<number, MigMemory>> {
  const byGpu = new Map<string, Map<number, MigMemory>>();
  let devices = new Map<number, MigMemory>();
  let device: { index?: number; memory: MigMemory } | undefined;
  const headings: Array<{ indent: number; title: string }> = [];

  const closeDevice = () => {
    if (device?.index !== undefined) devices.set(device.index, device.memory);
    device = undefined;
  };

  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const indent = raw.length - raw.trimStart().length;
    while (headings.length > 0 && headings.at(-1)!.indent >= indent) headings.pop();
    if (device && !headings.some((heading) => heading.title === 'MIG Device')) closeDevice();
    const keyValue = KEY_VALUE.exec(line);
    if (!keyValue) {
      if (GPU_SECTION.test(line)) devices = new Map();
      if (line === 'MIG Device') device = { memory: { total: null, used: null, free: null } };
      headings.push({ indent, title: line });
      continue;
    }
    const [, key, value = ''] = keyValue;
    const parent = headings.at(-1)?.title ?? '';
    if (key === 'GPU UUID' && headings.length === 1 && GPU_SECTION.test(parent)) byGpu.set(value, devices);
    if (!device) continue;
    if (key === 'Index' && parent === 'MIG Device' && /^\d+$/.test(value)) device.index = Number(value);
    if (MEMORY_HEADING.test(parent) && headings.at(-2)?.title === 'MIG Device') {
      if (key === 'Total') device.memory.total = readMebibytes(value);
      if (key === 'Used') device.memory.used = readMebibytes(value);
      if (key === 'Free') device.memory.free = readMebibytes(value);
    }
  }
  closeDevice();
  return byGpu;
}
