import type { AuditEvent } from '../../src/audit/audit.ts';
import type { ProjectRecord, Role } from '../../src/auth/projects.ts';
import { auditRow } from './audit-page.ts';
import { layout, type LayoutProps } from './layout.ts';
import { html, type Html } from './html.ts';

export function overviewPage(
  props: LayoutProps & {
    projects: Array<{ project: ProjectRecord; role: Role }>;
    activity: AuditEvent[];
    serverUrl: string;
  },
): Html {
  return layout(
    props,
    html`<h1>Welcome, ${props.viewer.displayName || props.viewer.username}</h1>
    <div class="grid">
      <div class="panel">
        <h2>Your projects</h2>
        ${props.projects.length
          ? html`<table><tbody>${props.projects.map(
              ({ project, role }) => html`<tr><td><a href="/projects/${project.name}">${project.name}</a></td><td class="muted">${project.description}</td><td><span class="badge">${role}</span></td></tr>`,
            )}</tbody></table>`
          : html`<p class="empty">You are not a member of any project yet: ask an admin to add you.</p>`}
      </div>
      <div class="panel">
        <h2>Connect</h2>
        <p class="muted">Sign the CLI in, or point the <code>mlflow</code> client at this server with a token from <a href="/settings/tokens">Settings</a>.</p>
        <pre class="snippet">yard login ${props.serverUrl} --username ${props.viewer.username}
export MLFLOW_TRACKING_URI=${props.serverUrl}
export MLFLOW_TRACKING_TOKEN=&lt;token&gt;</pre>
      </div>
    </div>
    ${props.viewer.isAdmin
      ? html`<div class="panel">
          <h2>Recent activity</h2>
          <table><tbody id="audit-rows">${props.activity.map(auditRow)}</tbody></table>
        </div>`
      : ''}`,
  );
}
