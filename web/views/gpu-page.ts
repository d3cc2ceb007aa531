import { layout, type LayoutProps } from './layout.ts';
import { html, type Html } from './html.ts';
import { gpuBoard, type GpuBoard } from './gpu-board.ts';

export function gpusPage(props: LayoutProps & { board: GpuBoard }): Html {
  return layout(
    props,
    html`<h1>GPUs <span class="muted">— which job holds which GPU</span></h1>
    ${gpuBoard(props.board)}`,
  );
}
