import type { Stage } from '../../src/registry/registry-validation.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';
import { descriptionSection, postForm, tagSection, type Editing } from './model-forms.ts';
import { aliasBadges, modelHref } from './models-page.ts';

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
  description: string;
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
  editing: Editing | undefined;
}

/** What the description and tag forms change. */
export interface ModelInfo {
  name: string;
  description: string;
  tags: Array<{ key: string; value: string }>;
  editing: Editing | undefined;
}

const STAGE_BADGES: Record<Stage, string> = { None: '', Staging: 'warn', Production: 'ok', Archived: '' };
export const STAGE_NAMES = Object.keys(STAGE_BADGES) as Stage[];

export const versionHref = (name: string, version: number) => `${modelHref(name)}/versions/${version}`;

export function stageBadge(stage: Stage): Html {
  return html`<span class="badge ${STAGE_BADGES[stage]}">${stage}</span>`;
}

/** The version's run by name, or by id when the viewer may not see it. */
export function runLink(runId: string, lineage: Lineage | undefined): Html {
  return html`<a href="/runs/${runId}">${lineage ? lineage.runName : html`<span class="mono">${runId}</span>`}</a>`;
}

export function experimentLink(lineage: Lineage | undefined): Html {
  return lineage ? html`<a href="/experiments/${lineage.experimentId}">${lineage.experimentName}</a>` : html``;
}

function lineageCells(version: VersionRow): Html {
  if (!version.runId) return html`<td class="muted">—</td><td></td>`;
  return html`<td class="nowrap">${runLink(version.runId, version.lineage)}</td><td>${experimentLink(version.lineage)}</td>`;
}

function aliasForm(body: ModelBody, editing: Editing): Html {
  return postForm(
    `${modelHref(body.name)}/aliases`,
    editing,
    html`<label>Alias <input name="alias" required maxlength="255" placeholder="champion"></label>
      <label>Version <select name="version">${body.versions.map(({ version }) => html`<option value="${version}">v${version}</option>`)}</select></label>
      <button class="primary" type="submit">Set alias</button>`,
    { target: '#model-body', className: 'inline alias-form', reset: true },
  );
}

function aliasPanel(body: ModelBody): Html {
  const { editing } = body;
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
              <td class="actions">${editing
                ? postForm(`${modelHref(body.name)}/aliases/${encodeURIComponent(alias)}/delete`, editing, html`<button class="danger" type="submit">Delete</button>`, {
                    target: '#model-body',
                    confirm: `Delete the alias ${alias}? Code loading models:/${body.name}@${alias} stops working.`,
                  })
                : ''}</td>
            </tr>`,
          )}
          </tbody>
        </table>`
      : html`<p class="empty">No aliases.</p>`}
    ${editing && body.versions.length ? aliasForm(body, editing) : ''}
  </div>`;
}

function versionTable(body: ModelBody): Html {
  /** Only MLflow 3 clients register logged models, and few versions carry a description: a column empty on every row is left out. */
  const showLoggedModels = body.versions.some(({ loggedModelId }) => loggedModelId);
  const showDescriptions = body.versions.some(({ description }) => description);
  return html`<div class="panel" id="versions">
    <h2>Versions</h2>
    ${body.versions.length
      ? html`<div class="table-scroll"><table>
          <thead><tr><th>Version</th><th>Stage</th><th>Aliases</th><th>Created</th><th>Run</th><th>Experiment</th>${showLoggedModels ? html`<th>Logged model</th>` : ''}<th>Source</th>${showDescriptions ? html`<th>Description</th>` : ''}</tr></thead>
          <tbody>
          ${body.versions.map(
            (version) => html`<tr>
              <td class="mono"><a href="${versionHref(body.name, version.version)}"><strong>v${version.version}</strong></a></td>
              <td>${stageBadge(version.stage)}</td>
              <td>${aliasBadges(version.aliases)}</td>
              <td class="nowrap">${formatTime(version.createdAt)}</td>
              ${lineageCells(version)}
              ${showLoggedModels ? html`<td class="mono">${version.loggedModelId ?? ''}</td>` : ''}
              <td class="mono">${version.source}</td>
              ${showDescriptions ? html`<td class="muted clip" title="${version.description}">${version.description}</td>` : ''}
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

/** The description and tags: the fragment their forms swap in. */
export function modelInfo(info: ModelInfo): Html {
  const action = modelHref(info.name);
  return html`<div class="panel" id="model-info">
    <h2>Description</h2>
    ${descriptionSection(info.description, info.editing, `${action}/description`, '#model-info')}
    <h2 class="later">Tags</h2>
    ${tagSection(info.tags, info.editing, `${action}/tags`, '#model-info')}
  </div>`;
}

/** What goes with the model, counted as far as the page knows. */
function belongings(body: ModelBody): string {
  const count = body.versions.length;
  if (count === 0) return 'its tags and aliases';
  if (count === 1) return 'its version, tags and aliases';
  return `its ${body.truncated ? 'more than ' : ''}${count} versions, tags and aliases`;
}

function deletePanel(body: ModelBody, editing: Editing): Html {
  return html`<div class="panel danger-zone">
    <h2>Delete</h2>
    ${postForm(
      `${modelHref(body.name)}/delete`,
      editing,
      html`<span class="muted">Deleting the model deletes ${belongings(body)} with it.</span>
        <button class="danger" type="submit">Delete model</button>`,
      { className: 'inline', confirm: `Delete the model ${body.name} and ${belongings(body)}? Code loading models:/${body.name} stops working. This cannot be undone.` },
    )}
  </div>`;
}

export function modelPage(props: LayoutProps & { project: string; info: ModelInfo; body: ModelBody }): Html {
  return layout(
    props,
    html`<h1>${props.body.name} <span class="muted">· <a href="/projects/${props.project}">${props.project}</a></span></h1>
    ${modelInfo(props.info)}
    ${modelBody(props.body)}
    ${props.body.editing ? deletePanel(props.body, props.body.editing) : ''}`,
  );
}
