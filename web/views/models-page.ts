import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';

export interface ModelRow {
  name: string;
  project: string;
  latestVersion: number | undefined;
  aliases: string[];
  lastUpdated: number;
  description: string;
}

export interface ModelTable {
  filter: string;
  models: ModelRow[];
  /** Page tokens of the neighbouring pages; undefined where there is none ('' is the first page). */
  previous: string | undefined;
  next: string | undefined;
}

export const modelHref = (name: string) => `/models/${encodeURIComponent(name)}`;

function pageHref(filter: string, pageToken: string): string {
  const search = new URLSearchParams();
  if (filter) search.set('filter', filter);
  if (pageToken) search.set('page_token', pageToken);
  const text = search.toString();
  return `/models${text ? `?${text}` : ''}`;
}

export function aliasBadges(aliases: string[]): Html {
  return html`${aliases.map((alias) => html`<span class="badge accent">@${alias}</span> `)}`;
}

/** The table of models; also the fragment the filter box swaps in. */
export function modelTable(table: ModelTable): Html {
  return html`<div id="models">
    ${table.models.length
      ? html`<div class="table-scroll"><table id="model-list">
          <thead><tr><th>Model</th><th>Project</th><th>Latest version</th><th>Aliases</th><th>Last updated</th><th>Description</th></tr></thead>
          <tbody>
          ${table.models.map(
            (model) => html`<tr>
              <td><a href="${modelHref(model.name)}"><strong>${model.name}</strong></a></td>
              <td><a href="/projects/${model.project}">${model.project}</a></td>
              <td class="mono">${model.latestVersion === undefined ? '—' : `v${model.latestVersion}`}</td>
              <td>${aliasBadges(model.aliases)}</td>
              <td>${formatTime(model.lastUpdated)}</td>
              <td class="muted">${model.description}</td>
            </tr>`,
          )}
          </tbody>
        </table></div>`
      : html`<p class="empty">${table.filter ? 'No models match.' : 'No registered models yet. Register one with mlflow.register_model().'}</p>`}
    <div class="pager">
      ${table.previous !== undefined ? html`<a href="${pageHref(table.filter, table.previous)}">← Previous</a>` : ''}
      ${table.next !== undefined ? html`<a href="${pageHref(table.filter, table.next)}">Next →</a>` : ''}
    </div>
  </div>`;
}

export function modelsPage(props: LayoutProps & { table: ModelTable }): Html {
  return layout(
    props,
    html`<h1>Models</h1>
    <div class="panel">
      <form class="inline" method="get" action="/models" hx-get="/models" hx-target="#models" hx-swap="outerHTML" hx-push-url="true">
        <label>Name <input name="filter" size="40" value="${props.table.filter}" placeholder="part of a model name"></label>
        <button class="primary" type="submit">Search</button>
      </form>
    </div>
    <div class="panel">${modelTable(props.table)}</div>`,
  );
}
