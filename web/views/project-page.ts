import type { ProjectRecord, Role } from '../../src/auth/projects.ts';
import { layout, type LayoutProps } from './layout.ts';
import { html, type Html } from './html.ts';

const ROLES: Role[] = ['viewer', 'editor', 'admin'];

export interface Member {
  username: string;
  displayName: string;
  role: Role;
}

function roleOptions(selected: Role): Html {
  return html`${ROLES.map((role) => html`<option value="${role}" ${role === selected ? 'selected' : ''}>${role}</option>`)}`;
}

export function memberList(props: { project: ProjectRecord; members: Member[]; canManage: boolean; csrfToken: string }): Html {
  const base = `/projects/${props.project.name}/members`;
  return html`<table id="member-list">
    <thead><tr><th>Member</th><th>Name</th><th>Role</th><th></th></tr></thead>
    <tbody>
    ${props.members.map(
      (member) => html`<tr>
        <td><strong>${member.username}</strong></td>
        <td>${member.displayName}</td>
        <td>${props.canManage
          ? html`<form method="post" action="${base}/${member.username}" hx-post="${base}/${member.username}" hx-trigger="change" hx-target="#member-list" hx-swap="outerHTML">
              <input type="hidden" name="_csrf" value="${props.csrfToken}">
              <select name="role" aria-label="Role of ${member.username}">${roleOptions(member.role)}</select>
            </form>`
          : html`<span class="badge">${member.role}</span>`}</td>
        <td class="actions">${props.canManage
          ? html`<form method="post" action="${base}/${member.username}/remove" hx-post="${base}/${member.username}/remove" hx-target="#member-list" hx-swap="outerHTML">
              <input type="hidden" name="_csrf" value="${props.csrfToken}">
              <button class="danger" type="submit">Remove</button>
            </form>`
          : ''}</td>
      </tr>`,
    )}
    </tbody>
  </table>`;
}

export function projectPage(
  props: LayoutProps & { project: ProjectRecord; role: Role; members: Member[]; candidates: string[] },
): Html {
  const canManage = props.role === 'admin';
  const csrfToken = props.viewer.csrfToken;
  return layout(
    props,
    html`<h1><a href="/projects">Projects</a> / ${props.project.name}</h1>
    <p class="muted">${props.project.description} · your role: <span class="badge">${props.role}</span></p>
    ${canManage && props.candidates.length
      ? html`<div class="panel">
          <h2>Add a member</h2>
          <form data-reset class="inline" method="post" action="/projects/${props.project.name}/members" hx-post="/projects/${props.project.name}/members" hx-target="#member-list" hx-swap="outerHTML">
            <input type="hidden" name="_csrf" value="${csrfToken}">
            <label>User <select name="username">${props.candidates.map((name) => html`<option>${name}</option>`)}</select></label>
            <label>Role <select name="role">${roleOptions('editor')}</select></label>
            <button class="primary" type="submit">Add member</button>
          </form>
        </div>`
      : ''}
    <div class="panel">
      <h2>Members</h2>
      <p class="muted">Viewers read, editors also write, admins also manage members.</p>
      ${memberList({ project: props.project, members: props.members, canManage, csrfToken })}
    </div>`,
  );
}
