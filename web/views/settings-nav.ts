import { html, type Html } from './html.ts';

export function settingsNav(active: 'tokens' | 'users' | 'audit'): Html {
  const link = (key: typeof active, href: string, label: string) =>
    html`<a href="${href}" class="${key === active ? 'active' : ''}">${label}</a>`;
  return html`<nav class="subnav">${active === 'tokens'
    ? link('tokens', '/settings/tokens', 'API tokens')
    : html`${link('users', '/admin/users', 'Users')}${link('audit', '/admin/audit', 'Audit log')}`}</nav>`;
}
