import type { ModelVersion } from '../../src/registry/registry.ts';
import type { Stage } from '../../src/registry/registry-validation.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';
import { descriptionSection, postForm, tagSection, type Editing } from './model-forms.ts';
import { experimentLink, runLink, STAGE_NAMES, stageBadge, versionHref, type Lineage } from './model-page.ts';
import { aliasBadges, modelHref } from './models-page.ts';

export interface VersionDetail
  extends Pick<
    ModelVersion,
    'name' | 'version' | 'aliases' | 'userId' | 'status' | 'source' | 'runId' | 'loggedModelId' | 'description' | 'tags'
  > {
  stage: Stage;
  createdAt: number;
  updatedAt: number;
  lineage: Lineage | undefined;
  editing: Editing | undefined;
}

function stageForm(detail: VersionDetail, editing: Editing): Html {
  return postForm(
    `${versionHref(detail.name, detail.version)}/stage`,
    editing,
    html`<label>Stage <select name="stage">${STAGE_NAMES.map(
      (stage) => html`<option value="${stage}"${stage === detail.stage ? html` selected` : ''}>${stage}</option>`,
    )}</select></label>
      <label class="check"><input type="checkbox" name="archive_existing_versions" value="true"> Archive the other versions in that stage</label>
      <button class="primary" type="submit">Transition</button>`,
    { target: '#version-body', className: 'inline stage-form' },
  );
}

function detailsPanel(detail: VersionDetail): Html {
  return html`<div class="panel">
    <h2>Version</h2>
    <table><tbody>
      <tr><th>Stage</th><td>${stageBadge(detail.stage)}</td></tr>
      <tr><th>Aliases</th><td>${detail.aliases.length ? aliasBadges(detail.aliases) : html`<span class="muted">—</span>`}</td></tr>
      <tr><th>Registered</th><td>${formatTime(detail.createdAt)}${detail.userId ? html` <span class="muted">by ${detail.userId}</span>` : ''}</td></tr>
      <tr><th>Updated</th><td>${formatTime(detail.updatedAt)}</td></tr>
      <tr><th>Run</th><td>${detail.runId ? runLink(detail.runId, detail.lineage) : html`<span class="muted">—</span>`}</td></tr>
      ${detail.lineage ? html`<tr><th>Experiment</th><td>${experimentLink(detail.lineage)}</td></tr>` : ''}
      ${detail.loggedModelId ? html`<tr><th>Logged model</th><td class="mono">${detail.loggedModelId}</td></tr>` : ''}
      <tr><th>Source</th><td class="mono">${detail.source}</td></tr>
      <tr><th>Status</th><td>${detail.status}</td></tr>
    </tbody></table>
    ${detail.editing ? stageForm(detail, detail.editing) : ''}
  </div>`;
}

/** Everything about the version its forms change: the fragment each of them swaps in. */
export function versionBody(detail: VersionDetail): Html {
  const action = versionHref(detail.name, detail.version);
  return html`<div id="version-body" class="grid">
    ${detailsPanel(detail)}
    <div class="panel">
      <h2>Description</h2>
      ${descriptionSection(detail.description, detail.editing, `${action}/description`, '#version-body')}
      <h2 class="later">Tags</h2>
      ${tagSection(detail.tags, detail.editing, `${action}/tags`, '#version-body')}
    </div>
  </div>`;
}

function deletePanel(detail: VersionDetail, editing: Editing): Html {
  const aliases = detail.aliases.length ? ` and its aliases (${detail.aliases.map((alias) => `@${alias}`).join(', ')})` : '';
  return html`<div class="panel danger-zone">
    <h2>Delete</h2>
    ${postForm(
      `${versionHref(detail.name, detail.version)}/delete`,
      editing,
      html`<span class="muted">The version's number is never given out again.</span>
        <button class="danger" type="submit">Delete version</button>`,
      {
        className: 'inline',
        confirm: `Delete version ${detail.version} of ${detail.name}${aliases}? Code loading models:/${detail.name}/${detail.version} stops working. This cannot be undone.`,
      },
    )}
  </div>`;
}

export function versionPage(props: LayoutProps & { project: string; detail: VersionDetail }): Html {
  const { detail } = props;
  return layout(
    props,
    html`<h1><a href="${modelHref(detail.name)}">${detail.name}</a> v${detail.version} <span class="muted">· <a href="/projects/${props.project}">${props.project}</a></span></h1>
    ${versionBody(detail)}
    ${detail.editing ? deletePanel(detail, detail.editing) : ''}`,
  );
}
