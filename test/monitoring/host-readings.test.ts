import { existsSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { networkInterfaceDefault } from 'systeminformation';
import { afterAll, describe, expect, it } from 'vitest';
import { createHostReader } from '../../src/monitoring/host-readings.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'trainyard-host-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("the host's readings", () => {
  it("give the CPU's busy share, memory, the data directory's file system and, from the second reading on, network rates", async () => {
    const read = createHostReader(dataDir);
    const first = await read();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await read();

    const disk = statfsSync(dataDir);
    for (const reading of [first, second]) {
      expect(reading.cpu).toBeGreaterThanOrEqual(0);
      expect(reading.cpu).toBeLessThanOrEqual(1);
      expect(reading.memoryUsed).toBeGreaterThan(0);
      expect(reading.memoryUsed).toBeLessThan(reading.memoryTotal);
      expect(reading.diskTotal).toBe(disk.blocks * disk.bsize);
      expect(reading.diskUsed).toBeGreaterThan(0);
    }
    expect(first).toMatchObject({ netRxBytesPerSecond: null, netTxBytesPerSecond: null });
    const iface = await networkInterfaceDefault();
    if (iface !== '' && existsSync(join('/sys/class/net', iface))) {
      expect(second.netRxBytesPerSecond).toBeGreaterThanOrEqual(0);
      expect(second.netTxBytesPerSecond).toBeGreaterThanOrEqual(0);
    } else {
      expect(second).toMatchObject({ netRxBytesPerSecond: null, netTxBytesPerSecond: null });
    }
  });
});
