import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';

export interface ExperimentRow {
  id: string;
  name: string;
  project: string;
  createdAt: number;
  activeRuns: number;
  /** When the latest active run started; null when none has. */
  lastRunTime: number | null;
}

export function experimentsPage(props: LayoutProps & { experiments: ExperimentRow[] }): Html {
  return layout(
    props,
    html`<h1>Experiments</h1>
    <div class="panel">
      ${props.experiments.length
        ? html`<table id="experiment-list">
            <thead><tr><th>Experiment</th><th>ID</th><th>Project</th><th class="number">Runs</th><th>Last run</th><th>Created</th></tr></thead>
            <tbody>
            ${props.experiments.map(
              (experiment) => html`<tr>
                <td><a href="/experiments/${experiment.id}"><strong>${experiment.name}</strong></a></td>
                <td class="mono">${experiment.id}</td>
                <td><a href="/projects/${experiment.project}">${experiment.project}</a></td>
                <td class="number">${experiment.activeRuns.toLocaleString('en-US')}</td>
                <td>${formatTime(experiment.lastRunTime)}</td>
                <td>${formatTime(experiment.createdAt)}</td>
              </tr>`,
            )}
            </tbody>
          </table>`
        : html`<p class="empty">No experiments yet. Log a run with the MLflow client to create one.</p>`}
    </div>`,
  );
}
