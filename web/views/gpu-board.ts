import type { GpuDevice, GpuProcess, GpuSnapshot, MigDevice } from '../../src/gpu/gpu-inventory.ts';
import { formatBytes } from '../../src/lib/byte-size.ts';
import type { JobState } from '../../src/scheduler/jobs.ts';
import { deploymentLink } from './deployment-format.ts';
import { html, type Html } from './html.ts';
import { formatClock, jobLink, jobStateBadge } from './job-format.ts';

/**
 * What a holder really uses of the unit it holds, from the sampler's latest round: null where that round cannot
 * tell it apart from others' use (a GPU shared between jobs, a MIG device's utilization).
 */
export interface HolderUsage {
  utilization: number | null;
  memory: number | null;
}

/** A job holding a GPU, with the deployment it serves; null for a job in a project the viewer may not see. */
export type GpuHolder = {
  id: number;
  name: string;
  user: string;
  state: JobState;
  deployment: string | null;
  /** Absent before the sampler's first round. */
  usage: HolderUsage | undefined;
} | null;

export interface GpuBoard {
  snapshot: GpuSnapshot;
  /** By GPU or MIG device UUID: the starting and running jobs placed there. */
  holders: ReadonlyMap<string, readonly GpuHolder[]>;
}

/** How often the open board asks for fresh readings. */
export const GPU_BOARD_REFRESH = '3s';

/** Every GPU and MIG device by UUID, named as the board names it: "GPU 0", "GPU 1 · MIG 2". */
export function gpuLabels(snapshot: GpuSnapshot): Map<string, string> {
  const labels = new Map<string, string>();
  for (const device of snapshot.devices) {
    labels.set(device.uuid, `GPU ${device.index}`);
    for (const mig of device.migDevices) labels.set(mig.uuid, `GPU ${device.index} · MIG ${mig.index}`);
  }
  return labels;
}

const percent = (ratio: number) => `${Math.round(ratio * 100)}%`;

function meter(label: string, ratio: number | null, text: string): Html {
  const width = ratio === null ? 0 : Math.min(1, Math.max(0, ratio));
  return html`<div class="meter-row">
    <div class="meter-head"><span class="meter-label">${label}</span><span class="meter-text">${text}</span></div>
    <div class="meter${width >= 0.9 ? ' high' : ''}" role="meter" aria-label="${label}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${Math.round(width * 100)}"><div style="width: ${percent(width)}"></div></div>
  </div>`;
}

function memoryMeter(used: number | null, total: number | null): Html {
  if (used === null || total === null || total <= 0) return meter('Memory', null, used === null ? 'n/a' : formatBytes(used));
  return meter('Memory', used / total, `${formatBytes(used)} / ${formatBytes(total)}`);
}

function usageNote(usage: HolderUsage | undefined): Html {
  if (!usage) return html``;
  const parts = [usage.utilization === null ? '' : `${percent(usage.utilization)} busy`, usage.memory === null ? '' : `${formatBytes(usage.memory)} held`].filter(Boolean);
  return html`<div class="holder-usage">${parts.length ? `uses ${parts.join(' · ')}` : html`<span class="muted">its own use is not measurable here</span>`}</div>`;
}

function holderList(holders: readonly GpuHolder[] = []): Html {
  if (holders.length === 0) return html`<div class="holders free">Free</div>`;
  return html`<ul class="holders">${holders.map((holder) =>
    holder
      ? html`<li>
          ${holder.deployment === null ? '' : html`${deploymentLink(holder.deployment)} <span class="muted">replica</span> `}${jobLink(holder)} ${jobStateBadge(holder.state)} <span class="muted">${holder.user}</span>
          ${usageNote(holder.usage)}
        </li>`
      : html`<li class="muted">a job in another project</li>`,
  )}</ul>`;
}

function processNote(processes: readonly GpuProcess[]): Html {
  if (processes.length === 0) return html``;
  const memory = processes.reduce((sum, process) => sum + (process.usedMemory ?? 0), 0);
  return html`<div class="muted processes">${processes.length} process${processes.length === 1 ? '' : 'es'} · ${formatBytes(memory)}</div>`;
}

function migCard(mig: MigDevice, board: GpuBoard): Html {
  return html`<div class="gpu-card mig" id="gpu-${mig.uuid}">
    <div class="gpu-title"><strong>MIG ${mig.index}</strong> <span class="muted">${mig.profile}</span></div>
    ${memoryMeter(mig.memoryUsed, mig.memoryTotal)}
    ${holderList(board.holders.get(mig.uuid))}
    <code class="uuid">${mig.uuid}</code>
  </div>`;
}

function readings(device: GpuDevice): Html {
  const power = device.powerDraw === null ? 'n/a' : `${Math.round(device.powerDraw)}${device.powerLimit === null ? '' : ` / ${Math.round(device.powerLimit)}`} W`;
  return html`<dl class="readings">
    <div><dt>Temperature</dt><dd>${device.temperature === null ? 'n/a' : `${device.temperature} °C`}</dd></div>
    <div><dt>Power</dt><dd>${power}</dd></div>
    ${device.migMode ? html`<div><dt>MIG</dt><dd>${device.migMode}</dd></div>` : ''}
  </dl>`;
}

function gpuCard(device: GpuDevice, board: GpuBoard): Html {
  const utilization = device.utilization;
  return html`<article class="gpu-card" id="gpu-${device.uuid}">
    <div class="gpu-title"><strong>GPU ${device.index}</strong> <span class="muted">${device.name}</span></div>
    ${memoryMeter(device.memoryUsed, device.memoryTotal)}
    ${meter('Utilization', utilization, utilization === null ? 'n/a' : percent(utilization))}
    ${readings(device)}
    ${device.migDevices.length
      ? html`<div class="mig-grid">${device.migDevices.map((mig) => migCard(mig, board))}</div>`
      : holderList(board.holders.get(device.uuid))}
    ${processNote(board.snapshot.processes.filter((process) => process.gpuUuid === device.uuid))}
    <code class="uuid">${device.uuid}</code>
  </article>`;
}

/** The cards; htmx asks for this fragment again every few seconds while the board is open. */
export function gpuBoard(board: GpuBoard): Html {
  const { snapshot } = board;
  return html`<div id="gpu-board" hx-get="/gpus" hx-trigger="every ${GPU_BOARD_REFRESH}" hx-swap="outerHTML">
    ${snapshot.problem ? html`<div class="flash error" role="alert">The latest GPU reading failed: ${snapshot.problem}</div>` : ''}
    ${snapshot.devices.length
      ? html`<div class="gpu-grid">${snapshot.devices.map((device) => gpuCard(device, board))}</div>`
      : html`<div class="panel"><p class="empty">${snapshot.kind === 'none' ? 'No GPUs: this appliance runs CPU jobs only.' : 'nvidia-smi reports no GPUs.'}
          Start it where <code>nvidia-smi</code> works, or simulate GPUs with <code>TRAINYARD_GPUS=fake:4xH100-80GB</code>.</p></div>`}
    <p class="muted sampled">${snapshot.kind === 'simulated' ? 'Simulated GPUs. ' : ''}Read at ${formatClock(snapshot.sampledAt)} UTC; refreshes every ${GPU_BOARD_REFRESH}.</p>
  </div>`;
}
