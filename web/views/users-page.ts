import type { PublicUser } from '../../src/auth/users.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';
import { settingsNav } from './settings-nav.ts';

function userAction(user: PublicUser, csrfToken: string, field: 'isAdmin' | 'disabled', value: boolean, label: string, danger = false): Html {
  return html`<form method="post" action="/admin/users/${user.username}" hx-post="/admin/users/${user.username}" hx-target="#user-list" hx-swap="outerHTML">
    <input type="hidden" name="_csrf" value="${csrfToken}">
    <input type="hidden" name="${field}" value="${String(value)}">
    <button type="submit" class="${danger ? 'danger' : ''}">${label}</button>
  </form>`;
}

export function userList(props: { users: PublicUser[]; csrfToken: string }): Html {
  const { csrfToken } = props;
  return html`<table id="user-list">
    <thead><tr><th>User</th><th>Name</th><th>Role</th><th>State</th><th>Created</th><th></th></tr></thead>
    <tbody>
    ${props.users.map(
      (user) => html`<tr>
        <td><strong>${user.username}</strong></td>
        <td>${user.displayName}</td>
        <td>${user.isAdmin ? html`<span class="badge accent">site admin</span>` : 'member'}</td>
        <td>${user.disabled ? html`<span class="badge danger">disabled</span>` : html`<span class="badge ok">active</span>`}</td>
        <td>${formatTime(user.createdAt)}</td>
        <td class="actions">
          ${user.isAdmin
            ? userAction(user, csrfToken, 'isAdmin', false, 'Remove admin')
            : userAction(user, csrfToken, 'isAdmin', true, 'Make admin')}
          ${user.disabled
            ? userAction(user, csrfToken, 'disabled', false, 'Enable')
            : userAction(user, csrfToken, 'disabled', true, 'Disable', true)}
        </td>
      </tr>`,
    )}
    </tbody>
  </table>`;
}

export function usersPage(props: LayoutProps & { users: PublicUser[] }): Html {
  const csrfToken = props.viewer.csrfToken;
  return layout(
    props,
    html`${settingsNav('users')}
    <div class="panel">
      <h2>Add a user</h2>
      <form data-reset class="inline" method="post" action="/admin/users" hx-post="/admin/users" hx-target="#user-list" hx-swap="outerHTML">
        <input type="hidden" name="_csrf" value="${csrfToken}">
        <label>Username <input name="username" required pattern="[a-z0-9][a-z0-9._\\-]{1,63}" placeholder="ada"></label>
        <label>Full name <input name="displayName" placeholder="Ada Lovelace"></label>
        <label>Password <input name="password" type="password" required minlength="8" autocomplete="new-password"></label>
        <label>Role <select name="isAdmin"><option value="false">member</option><option value="true">site admin</option></select></label>
        <button class="primary" type="submit">Add user</button>
      </form>
    </div>
    <div class="panel">
      <h2>Users</h2>
      ${userList({ users: props.users, csrfToken })}
    </div>
    <div class="panel">
      <h2>Reset a password</h2>
      <form data-reset class="inline" method="post" action="/admin/users/password" hx-post="/admin/users/password" hx-target="#user-list" hx-swap="outerHTML">
        <input type="hidden" name="_csrf" value="${csrfToken}">
        <label>Username <select name="username">${props.users.map((user) => html`<option>${user.username}</option>`)}</select></label>
        <label>New password <input name="password" type="password" required minlength="8" autocomplete="new-password"></label>
        <button type="submit">Set password</button>
      </form>
    </div>`,
  );
}
