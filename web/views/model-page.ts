import type { Stage } from '../../src/registry/registry-validation.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';
import { aliasBadges, modelHref } from './models-page.ts';
import { keyValueTable } from './run-format.ts';

/** Where a version came from: its run, and that run's experiment, when the viewer may see them. */
export interface Lineage {
  runName: string;
  experimentId: string;
  experimentName: string;
}

export interface VersionRow {
  version: number;
  stage: Stage;
  aliases: string[];
  createdAt: number;
  source: string;
  runId: string;
  lineage: Lineage | undefined;
  loggedModelId: string | null;
}

export interface ModelBody {
  name: string;
  aliases: Array<{ alias: string; version: number }>;
  versions: VersionRow[];
  /** More versions exist than the page shows. */
  truncated: boolean;
  canEdit: boolean;
  csrfToken: string;
}

const STAGE_BADGES: Record<Stage, string> = { None: '', Staging: 'warn', Production: 'ok', Archived: '' };

function stageBadge(stage: Stage): Html {
  return html`<span class="badge ${STAGE_BADGES[stage]}">${stage}</span>`;
}

function lineageCells(version: VersionRow): Html {
  if (!version.runId) return html`<td class="muted">—</td><td></td>`;
  const { lineage } = version;
  return html`<td class="nowrap"><a href="/runs/${version.runId}">${lineage ? lineage.runName : html`<span class="mono">${version.runId}</span>`}</a></td>
    <td>${lineage ? html`<a href="/experiments/${lineage.experimentId}">${lineage.experimentName}</a>` : ''}</td>`;
}

function aliasForms(body: ModelBody): Html {
  const action = `${modelHref(body.name)}/aliases`;
  return html`<form data-reset class="inline alias-form" method="post" action="${action}" hx-post="${action}" hx-target="#model-body" hx-swap="outerHTML">
    <input type="hidden" name="_csrf" value="${body.csrfToken}">
    <label>Alias <input name="alias" required maxlength="255" placeholder="champion"></label>
    <label>Version <select name="version">${body.versions.map(({ version }) => html`<option value="${version}">v${version}</option>`)}</select></label>
    <button class="primary" type="submit">Set alias</button>
  </form>`;
}

function aliasPanel(body: ModelBody): Html {
  return html`<div class="panel" id="aliases">
    <h2>Aliases</h2>
    ${body.aliases.length
      ? html`<table>
          <thead><tr><th>Alias</th><th>Version</th><th></th></tr></thead>
          <tbody>
          ${body.aliases.map(
            ({ alias, version }) => html`<tr>
              <td><span class="badge accent">@${alias}</span></td>
              <td class="mono">v${version}</td>
              <td class="actions">${body.canEdit
                ? html`<form method="post" action="${modelHref(body.name)}/aliases/${encodeURIComponent(alias)}/delete" hx-post="${modelHref(body.name)}/aliases/${encodeURIComponent(alias)}/delete" hx-target="#model-body" hx-swap="outerHTML" hx-confirm="Delete the alias ${alias}? Code loading models:/${body.name}@${alias} stops working.">
                    <input type="hidden" name="_csrf" value="${body.csrfToken}">
                    <button class="danger" type="submit">Delete</button>
                  </form>`
                : ''}</td>
            </tr>`,
          )}
          </tbody>
        </table>`
      : html`<p class="empty">No aliases.</p>`}
    ${body.canEdit && body.versions.length ? aliasForms(body) : ''}
  </div>`;
}

function versionTable(body: ModelBody): Html {
  /** Only MLflow 3 clients register logged models; a column empty on every row is left out. */
  const showLoggedModels = body.versions.some(({ loggedModelId }) => loggedModelId);
  return html`<div class="panel" id="versions">
    <h2>Versions</h2>
    ${body.versions.length
      ? html`<div class="table-scroll"><table>
          <thead><tr><th>Version</th><th>Stage</th><th>Aliases</th><th>Created</th><th>Run</th><th>Experiment</th>${showLoggedModels ? html`<th>Logged model</th>` : ''}<th>Source</th></tr></thead>
          <tbody>
          ${body.versions.map(
            (version) => html`<tr>
              <td class="mono"><strong>v${version.version}</strong></td>
              <td>${stageBadge(version.stage)}</td>
              <td>${aliasBadges(version.aliases)}</td>
              <td class="nowrap">${formatTime(version.createdAt)}</td>
              ${lineageCells(version)}
              ${showLoggedModels ? html`<td class="mono">${version.loggedModelId ?? ''}</td>` : ''}
              <td class="mono">${version.source}</td>
            </tr>`,
          )}
          </tbody>
        </table></div>`
      : html`<p class="empty">No versions yet.</p>`}
    ${body.truncated ? html`<p class="muted">Showing the newest ${body.versions.length} versions.</p>` : ''}
  </div>`;
}

/** The aliases and versions: the fragment an alias change swaps in, since both show the aliases. */
export function modelBody(body: ModelBody): Html {
  return html`<div id="model-body">${aliasPanel(body)}${versionTable(body)}</div>`;
}

export function modelPage(
  props: LayoutProps & { project: string; description: string; tags: Array<{ key: string; value: string }>; body: ModelBody },
): Html {
  return layout(
    props,
    html`<h1>${props.body.name} <span class="muted">· <a href="/projects/${props.project}">${props.project}</a></span></h1>
    <div class="panel">
      <h2>Description</h2>
      ${props.description ? html`<p>${props.description}</p>` : html`<p class="empty">No description.</p>`}
      <h2 class="later">Tags</h2>
      ${keyValueTable(props.tags, 'No tags.')}
    </div>
    ${modelBody(props.body)}`,
  );
}
