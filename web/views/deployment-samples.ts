import { formatBytes } from '../../src/lib/byte-size.ts';
import type { DeploymentJson } from '../../src/serving/deployment-json.ts';
import type { RequestSampleJson, SampledBodyJson } from '../../src/serving/request-samples.ts';
import { formatLatency } from './deployment-format.ts';
import { formatTime, html, type Html } from './html.ts';

/** How much of a body the list shows; the API answers all that was kept. */
const PREVIEW_CHARS = 120;

function preview(body: SampledBodyJson): Html {
  const shown = body.encoding === 'utf8' ? body.body.slice(0, PREVIEW_CHARS) : `${body.bytes} bytes of binary`;
  const more = body.encoding === 'utf8' && body.body.length > PREVIEW_CHARS ? '…' : '';
  const cut = body.truncated ? html` <span class="badge warn" title="only the first bytes were kept">truncated, ${formatBytes(body.bytes)} in all</span>` : '';
  return html`<code class="sample-body">${shown}${more}</code>${cut}`;
}

/** The latest calls whose bodies were sampled, for a look at what the model gets and answers. */
export function samplesPanel(deployment: DeploymentJson, samples: readonly RequestSampleJson[]): Html {
  const rate = deployment.sampleRate === 0 ? 'off' : `${Number((deployment.sampleRate * 100).toPrecision(3))}% of calls, up to ${formatBytes(deployment.sampleMaxBytes)} per body`;
  return html`<div class="panel" id="deployment-samples">
    <h2>Sampled calls <span class="muted">· ${rate}</span></h2>
    ${samples.length === 0
      ? html`<p class="empty">No sampled call yet.</p>`
      : html`<table class="samples">
          <thead><tr><th>At</th><th>Call</th><th>Status</th><th>Took</th><th>Version</th><th>Request</th><th>Response</th></tr></thead>
          <tbody>
          ${samples.map(
            (sample) => html`<tr>
              <td class="nowrap">${formatTime(sample.at)}</td>
              <td class="nowrap"><code>${sample.method} ${sample.path}</code></td>
              <td class="number">${sample.status}</td>
              <td class="number nowrap">${formatLatency(sample.latencyMs)}</td>
              <td class="mono">v${sample.version}</td>
              <td>${preview(sample.request)}</td>
              <td>${preview(sample.response)}</td>
            </tr>`,
          )}
          </tbody>
        </table>
        <p class="muted">All of them as JSON: <code>GET /api/v1/deployments/${deployment.name}/samples?limit=100</code></p>`}
  </div>`;
}
