import { html, type Html } from './html.ts';
import { formatBytes } from '../../src/lib/byte-size.ts';

export interface ArtifactListing {
  runId: string;
  /** The listed folder, relative to the run's artifact root; '' is the root. */
  path: string;
  entries: Array<{ name: string; isDir: boolean; size?: number }>;
}

export type ArtifactPreview =
  /** `shownBytes` below `size`: the text is the file's start only. */
  | { path: string; kind: 'text'; text: string; size: number; shownBytes: number }
  | { path: string; kind: 'image'; size: number }
  | { path: string; kind: 'binary'; size: number };

const joinPath = (folder: string, name: string) => (folder ? `${folder}/${name}` : name);
const artifactUrl = (runId: string, action: '' | '/preview' | '/raw', path: string) =>
  `/runs/${runId}/artifacts${action}${path ? `?path=${encodeURIComponent(path)}` : ''}`;

/** A link that htmx follows by swapping `target`, and a browser without scripts by loading the whole page. */
function swapLink(href: string, target: string, label: Html | string): Html {
  return html`<a href="${href}" hx-get="${href}" hx-target="${target}" hx-swap="outerHTML" hx-push-url="true">${label}</a>`;
}

function breadcrumbs(listing: ArtifactListing): Html {
  const names = listing.path ? listing.path.split('/') : [];
  const root = swapLink(artifactUrl(listing.runId, '', ''), '#artifacts', 'artifacts');
  return html`<nav class="crumbs">${root}${names.map((name, index) => {
    const path = names.slice(0, index + 1).join('/');
    return html` / ${index === names.length - 1 ? html`<strong>${name}</strong>` : swapLink(artifactUrl(listing.runId, '', path), '#artifacts', name)}`;
  })}</nav>`;
}

export function artifactPreview(runId: string, preview: ArtifactPreview | undefined): Html {
  if (!preview) return html`<div id="artifact-preview" class="artifact-preview"><p class="empty">Choose a file to preview it.</p></div>`;
  const raw = artifactUrl(runId, '/raw', preview.path);
  const header = html`<div class="preview-head"><span class="mono">${preview.path}</span> <span class="muted">${formatBytes(preview.size)}</span>
    <a href="${raw}" download>Download</a></div>`;
  const body =
    preview.kind === 'text'
      ? html`<pre class="preview">${preview.text}</pre>${preview.shownBytes < preview.size
          ? html`<p class="muted truncated">Showing the first ${formatBytes(preview.shownBytes)} of ${formatBytes(preview.size)}; download the file for the rest.</p>`
          : ''}`
      : preview.kind === 'image'
        ? html`<img class="preview" src="${raw}" alt="${preview.path}">`
        : html`<p class="empty">No preview for this kind of file.</p>`;
  return html`<div id="artifact-preview" class="artifact-preview">${header}${body}</div>`;
}

/** The listing of one folder beside the preview of one file: the fragment a folder link swaps. */
export function artifactBrowser(listing: ArtifactListing, preview?: ArtifactPreview): Html {
  const { runId, path, entries } = listing;
  return html`<div id="artifacts">
    ${breadcrumbs(listing)}
    <div class="artifact-browser">
      ${entries.length
        ? html`<table class="artifact-list"><tbody>
            ${[...entries].sort((a, b) => Number(b.isDir) - Number(a.isDir)).map((entry) => {
              const full = joinPath(path, entry.name);
              return entry.isDir
                ? html`<tr><td class="folder">${swapLink(artifactUrl(runId, '', full), '#artifacts', `${entry.name}/`)}</td><td></td><td></td></tr>`
                : html`<tr>
                    <td>${swapLink(artifactUrl(runId, '/preview', full), '#artifact-preview', entry.name)}</td>
                    <td class="muted size">${formatBytes(entry.size ?? 0)}</td>
                    <td class="actions"><a href="${artifactUrl(runId, '/raw', full)}" download>Download</a></td>
                  </tr>`;
            })}
          </tbody></table>`
        : html`<p class="empty">${path ? 'This folder is empty.' : 'No artifacts logged.'}</p>`}
      ${artifactPreview(runId, preview)}
    </div>
  </div>`;
}
