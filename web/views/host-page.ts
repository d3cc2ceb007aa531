import type { HostReading } from '../../src/monitoring/sample.ts';
import { formatBytes } from '../../src/lib/byte-size.ts';
import { layout, type LayoutProps } from './layout.ts';
import { html, type Html } from './html.ts';
import { formatClock } from './job-format.ts';
import { HOST_CHARTS, resourceChart } from './resource-chart.ts';

export interface HostView {
  /** The sampler's latest round: when, what it read of the host (null when it could not), and what it skipped. */
  latest: { at: number; host: HostReading | null; skipped: readonly string[] } | undefined;
}

function sizes(host: HostReading): Html {
  return html`<dl class="readings">
    <div><dt>Memory</dt><dd>${formatBytes(host.memoryTotal)}</dd></div>
    <div><dt>Data disk</dt><dd>${formatBytes(host.diskTotal)}</dd></div>
  </dl>`;
}

function latestNote({ latest }: HostView): Html {
  if (!latest) return html`<p class="muted">The sampler has not recorded a round yet; the charts fill as it does.</p>`;
  return html`${latest.host ? sizes(latest.host) : html`<div class="flash error" role="alert">The latest round could not read the host.</div>`}
    ${latest.skipped.length ? html`<p class="muted skipped">The latest round skipped: ${latest.skipped.join('; ')}</p>` : ''}
    <p class="muted sampled">Latest round at ${formatClock(latest.at)} UTC.</p>`;
}

/** The appliance's machine: processor, memory, the disk that holds the data directory, network; live charts of the last hour. */
export function hostPage(props: LayoutProps & { view: HostView }): Html {
  return layout(
    props,
    html`<h1>Host <span class="muted">— the machine the appliance runs on</span></h1>
    <div class="panel" id="host-now">${latestNote(props.view)}</div>
    <div class="panel" id="host-charts">
      <h2>Last hour <span class="muted">— live</span></h2>
      <div class="charts">${HOST_CHARTS.map(({ title, lines }) => resourceChart({ subject: { kind: 'host' }, title, lines }))}</div>
    </div>`,
  );
}
