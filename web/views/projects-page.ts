import type { ProjectRecord, Role } from '../../src/auth/projects.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';

export function projectList(props: { projects: Array<{ project: ProjectRecord; role: Role }> }): Html {
  return html`<table id="project-list">
    <thead><tr><th>Project</th><th>Description</th><th>Your role</th><th>Created</th></tr></thead>
    <tbody>
    ${props.projects.map(
      ({ project, role }) => html`<tr>
        <td><a href="/projects/${project.name}"><strong>${project.name}</strong></a></td>
        <td>${project.description}</td>
        <td><span class="badge">${role}</span></td>
        <td>${formatTime(project.createdAt)}</td>
      </tr>`,
    )}
    </tbody>
  </table>`;
}

export function projectsPage(props: LayoutProps & { projects: Array<{ project: ProjectRecord; role: Role }> }): Html {
  return layout(
    props,
    html`<h1>Projects</h1>
    ${props.viewer.isAdmin
      ? html`<div class="panel">
          <h2>New project</h2>
          <form data-reset class="inline" method="post" action="/projects" hx-post="/projects" hx-target="#project-list" hx-swap="outerHTML">
            <input type="hidden" name="_csrf" value="${props.viewer.csrfToken}">
            <label>Name <input name="name" required pattern="[a-z0-9][a-z0-9\\-]{0,62}" placeholder="vision"></label>
            <label>Description <input name="description" size="40"></label>
            <button class="primary" type="submit">Create project</button>
          </form>
        </div>`
      : ''}
    <div class="panel">
      ${props.projects.length ? projectList(props) : html`<p class="empty">You are not a member of any project yet.</p>`}
    </div>`,
  );
}
