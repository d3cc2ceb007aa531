import { readFile, statfs } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { mem, networkInterfaceDefault } from 'systeminformation';
import type { HostReading } from './sample.ts';

export type ReadHost = () => Promise<HostReading>;

interface Counters {
  /** performance.now() of the reading: rates are per real second, whatever clock the appliance is given. */
  time: number;
  cpuBusy: number;
  cpuTotal: number;
  rxBytes: number | null;
  txBytes: number | null;
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    busy += times.user + times.nice + times.sys + times.irq;
    total += times.user + times.nice + times.sys + times.irq + times.idle;
  }
  return { busy, total };
}

async function readCounter(path: string): Promise<number | null> {
  try {
    const value = Number((await readFile(path, 'utf8')).trim());
    return Number.isSafeInteger(value) && value >= 0 ? value : null;
  } catch {
    return null;
  }
}

/** Bytes per second between two readings of a counter; null without both, or when it went back (the interface was reset). */
function ratePerSecond(before: number | null | undefined, after: number | null, seconds: number): number | null {
  if (before === null || before === undefined || after === null || after < before || seconds <= 0) return null;
  return (after - before) / seconds;
}

/**
 * The host: memory in use without the page cache (systeminformation's `active`, as `free` counts "used"), the
 * CPU's busy share and the default interface's traffic since the previous reading, and the file system that
 * holds the data directory (statfs on it). systeminformation also names the default interface, once; the CPU
 * and traffic counters are read here from the kernel (os.cpus(), /sys/class/net): systeminformation would
 * start a dozen shells per reading for them, which costs more CPU than all the rest of a sampler round.
 */
export function createHostReader(dataDir: string): ReadHost {
  let iface: Promise<string> | undefined;
  let previous: Counters | undefined;

  const traffic = async (name: string) =>
    name === '' || name.includes('/')
      ? { rx: null, tx: null }
      : {
          rx: await readCounter(join('/sys/class/net', name, 'statistics/rx_bytes')),
          tx: await readCounter(join('/sys/class/net', name, 'statistics/tx_bytes')),
        };

  return async () => {
    iface ??= networkInterfaceDefault().catch(() => '');
    const [memory, disk, net] = await Promise.all([mem(), statfs(dataDir), iface.then(traffic)]);
    const cpu = cpuTimes();
    const now: Counters = { time: performance.now(), cpuBusy: cpu.busy, cpuTotal: cpu.total, rxBytes: net.rx, txBytes: net.tx };
    const before = previous;
    previous = now;
    const seconds = before ? (now.time - before.time) / 1000 : 0;
    const cpuTotal = now.cpuTotal - (before?.cpuTotal ?? 0);
    return {
      // The first reading covers the time since boot.
      cpu: cpuTotal > 0 ? Math.min(Math.max((now.cpuBusy - (before?.cpuBusy ?? 0)) / cpuTotal, 0), 1) : 0,
      load1: loadavg()[0] ?? 0,
      memoryUsed: memory.active,
      memoryTotal: memory.total,
      diskUsed: (disk.blocks - disk.bfree) * disk.bsize,
      diskTotal: disk.blocks * disk.bsize,
      netRxBytesPerSecond: ratePerSecond(before?.rxBytes, now.rxBytes, seconds),
      netTxBytesPerSecond: ratePerSecond(before?.txBytes, now.txBytes, seconds),
    };
  };
}
