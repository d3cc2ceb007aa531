import { layout, type LayoutProps } from './layout.ts';
import { html, type Html } from './html.ts';
import { gpuBoard, type GpuBoard } from './gpu-board.ts';
import { GPU_CHART_LINES, resourceChart } from './resource-chart.ts';

/**
 * The board (polled) and below it a chart per GPU, outside the board so that its refresh leaves the charts alone:
 * they extend themselves with the points the `gpus` feed pushes after each sampler round.
 */
export function gpusPage(props: LayoutProps & { board: GpuBoard }): Html {
  const { devices } = props.board.snapshot;
  return layout(
    props,
    html`<h1>GPUs <span class="muted">— which job holds which GPU</span></h1>
    ${gpuBoard(props.board)}
    ${devices.length
      ? html`<div class="panel" id="gpu-charts">
          <h2>Last hour <span class="muted">— utilization and memory in %, temperature, power; live</span></h2>
          <div class="charts">
            ${devices.map((device) => resourceChart({ subject: { kind: 'gpu', uuid: device.uuid }, title: `GPU ${device.index} · ${device.name}`, lines: GPU_CHART_LINES }))}
          </div>
        </div>`
      : ''}`,
  );
}
