import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createGpuInventory, placeableUnits } from '../../src/gpu/gpu-inventory.ts';
import { MIB, OWN_FIXTURES, capturedLog, fakeExecutable } from './gpu-fixtures.ts';

const GIB = 1024 ** 3;
const sourceOf = (gpus: string) => loadConfig({ gpus }, {}).gpus;

function inventoryOf(gpus: string, searchPath = '') {
  const clock = { now: 1_700_000_000_000 };
  const { log, entries } = capturedLog();
  return { inventory: createGpuInventory(sourceOf(gpus), { log, now: () => clock.now, searchPath }), clock, entries };
}

describe('simulated GPUs', () => {
  it('gives the same spec the same UUIDs at every start; a GPU added at the end leaves the others alone', async () => {
    const first = await inventoryOf('fake:4xH100-80GB').inventory.list();
    const again = await inventoryOf('fake:4xH100').inventory.list();
    const grown = await inventoryOf('fake:4xH100,1xL4').inventory.list();
    const uuids = first.devices.map((device) => device.uuid);
    expect(uuids.every((uuid) => /^GPU-fake-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(uuid))).toBe(true);
    expect(new Set(uuids).size).toBe(4);
    expect(again.devices.map((device) => device.uuid)).toEqual(uuids);
    expect(grown.devices.map((device) => device.uuid).slice(0, 4)).toEqual(uuids);
  });

  it('reports idle GPUs of the listed models', async () => {
    const { inventory, clock } = inventoryOf('fake:2xA100-40GB,1xL4-24GB');
    const snapshot = await inventory.list();
    expect(inventory.kind).toBe('simulated');
    expect(snapshot).toMatchObject({ kind: 'simulated', sampledAt: clock.now, processes: [] });
    expect(snapshot.devices.map((device) => [device.index, device.name, device.memoryTotal! / GIB, device.powerLimit])).toEqual([
      [0, 'NVIDIA A100 40GB (simulated)', 40, 400],
      [1, 'NVIDIA A100 40GB (simulated)', 40, 400],
      [2, 'NVIDIA L4 24GB (simulated)', 24, 72],
    ]);
    expect(snapshot.devices[0]).toMatchObject({ utilization: 0, memoryUsed: 0, memoryFree: 40 * GIB, temperature: 30, powerDraw: 40, migMode: null, migDevices: [] });
    expect(placeableUnits(snapshot)).toHaveLength(3);
  });

  it('follows the load the scheduler sets, and goes back to idle', async () => {
    const { inventory } = inventoryOf('fake:2xH100');
    const [busy, quiet] = (await inventory.list()).devices.map((device) => device.uuid);
    inventory.setLoad(busy!, 0.5, 20 * GIB);
    const loaded = (await inventory.list()).devices;
    expect(loaded[0]).toMatchObject({ utilization: 0.5, memoryUsed: 20 * GIB, memoryFree: 60 * GIB, temperature: 54, powerDraw: 350 });
    expect(loaded[1]).toMatchObject({ uuid: quiet, utilization: 0, memoryUsed: 0, powerDraw: 70 });
    inventory.setLoad(busy!, 1, 80 * GIB);
    expect((await inventory.list()).devices[0]).toMatchObject({ utilization: 1, memoryFree: 0, temperature: 78, powerDraw: 630 });
    inventory.setLoad(busy!, 0, 0);
    expect((await inventory.list()).devices[0]).toMatchObject({ utilization: 0, memoryUsed: 0, powerDraw: 70 });
  });

  it.each([
    ['an unknown GPU', 'GPU-nope', 0.5, 0, /no simulated GPU has the UUID GPU-nope/],
    ['utilization above 1', undefined, 1.5, 0, /utilization must be between 0 and 1, got 1.5/],
    ['utilization that is not a number', undefined, Number.NaN, 0, /utilization must be between 0 and 1/],
    ['negative memory', undefined, 0.5, -1, /memory must be whole bytes from 0 to/],
    ['more memory than the GPU has', undefined, 0.5, 81 * GIB, /memory must be whole bytes from 0 to 85899345920/],
    ['fractional bytes', undefined, 0.5, 0.5, /memory must be whole bytes/],
  ])('refuses a load with %s and keeps the last one', async (_name, uuid, utilization, memory, message) => {
    const { inventory } = inventoryOf('fake:1xH100');
    const gpu = (await inventory.list()).devices[0]!.uuid;
    inventory.setLoad(gpu, 0.25, GIB);
    expect(() => inventory.setLoad(uuid ?? gpu, utilization, memory)).toThrow(message);
    expect((await inventory.list()).devices[0]).toMatchObject({ utilization: 0.25, memoryUsed: GIB });
  });
});

describe('choosing the GPU source', () => {
  it('has no GPUs with none', async () => {
    const { inventory, clock } = inventoryOf('none');
    expect(inventory.kind).toBe('none');
    expect(await inventory.list()).toEqual({ kind: 'none', sampledAt: clock.now, devices: [], processes: [] });
    expect(() => inventory.setLoad('GPU-any', 1, 0)).not.toThrow();
  });

  it('has no GPUs, and says so once, with auto and no nvidia-smi on the PATH', async () => {
    const { inventory, entries } = inventoryOf('auto', mkdtempSync(join(tmpdir(), 'trainyard-empty-path-')));
    expect(inventory.kind).toBe('none');
    expect((await inventory.list()).devices).toEqual([]);
    expect(entries().map((entry) => entry.msg)).toEqual(['nvidia-smi is not on the PATH: no GPUs, CPU jobs still run (TRAINYARD_GPUS=fake:4xH100 simulates some)']);
  });

  it('reads real GPUs with auto when nvidia-smi is on the PATH', async () => {
    const fixture = (name: string) => `cat '${join(OWN_FIXTURES, name)}'`;
    const { dir } = fakeExecutable(
      [
        'case "$1" in',
        `  --query-gpu=*) ${fixture('h100-mig-query-gpu.csv')} ;;`,
        `  --query-compute-apps=*) ${fixture('h100-mig-compute-apps.csv')} ;;`,
        `  -L) ${fixture('h100-mig-list.txt')} ;;`,
        `  -q) ${fixture('h100-mig-query.txt')} ;;`,
        '  *) echo "unknown option $1" >&2; exit 2 ;;',
        'esac',
      ].join('\n'),
    );
    const { inventory, entries } = inventoryOf('auto', `/nonexistent:${dir}`);
    expect(inventory.kind).toBe('nvidia');
    const snapshot = await inventory.list();
    expect(snapshot.problem).toBeUndefined();
    expect(snapshot.processes.map((app) => app.usedMemory! / MIB)).toEqual([2296, 1272, 7484]);
    expect(placeableUnits(snapshot).map((unit) => unit.memoryTotal! / MIB)).toEqual([40448, 20096, 9984, 9984]);
    expect(entries()).toEqual([]);
  });
});
