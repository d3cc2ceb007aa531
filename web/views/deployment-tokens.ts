import type { DeploymentTokenJson } from '../../src/serving/deployment-tokens.ts';
import { deploymentHref } from './deployment-format.ts';
import { formatTime, html, type Html } from './html.ts';
import { postForm, type Editing } from './model-forms.ts';

export interface DeploymentTokensProps {
  name: string;
  tokens: DeploymentTokenJson[];
  editing: Editing;
  now: number;
  /** The secret of the token just made: shown this once. */
  created?: string;
}

const PANEL = '#deployment-tokens';

function tokenState(token: DeploymentTokenJson, now: number): Html {
  if (token.revokedAt !== null) return html`<span class="badge danger">revoked</span>`;
  if (token.expiresAt !== null && token.expiresAt <= now) return html`<span class="badge warn">expired</span>`;
  return html`<span class="badge ok">active</span>`;
}

/**
 * The deployment's own tokens, for its project's editors: a program holding one may call this deployment and nothing
 * else. Outside the part of the page that refreshes itself, so that a new secret stays on screen.
 */
export function deploymentTokensPanel({ name, tokens, editing, now, created }: DeploymentTokensProps): Html {
  const href = `${deploymentHref(name)}/tokens`;
  return html`<div class="panel" id="deployment-tokens">
    <h2>Tokens for this deployment</h2>
    <p class="muted">A token made here calls <code>/serve/${name}/…</code> and nothing else: not the API, not the dashboard, not other deployments. It outlives an undeploy and works again when <code>${name}</code> is deployed anew in this project.</p>
    ${created
      ? html`<div class="secret" id="new-deployment-token"><strong>New token</strong><code>${created}</code><span class="muted">Copy it now: it is not shown again.</span></div>`
      : ''}
    ${postForm(
      href,
      editing,
      html`<label>Name <input name="name" required maxlength="100" placeholder="billing service"></label>
        <label>Expires after <select name="expiresIn"><option value="">never</option><option value="30d">30 days</option><option value="90d">90 days</option><option value="365d">1 year</option></select></label>
        <button class="primary" type="submit">Create token</button>`,
      { target: PANEL, className: 'inline', reset: true },
    )}
    ${tokens.length === 0
      ? html`<p class="empty">No tokens yet.</p>`
      : html`<table>
          <thead><tr><th>Name</th><th>Token</th><th>Made by</th><th>Created</th><th>Expires</th><th>Last used</th><th>State</th><th></th></tr></thead>
          <tbody>
          ${tokens.map(
            (token) => html`<tr id="deployment-token-${token.id}">
              <td>${token.name}</td>
              <td><code>${token.prefix}…</code></td>
              <td>${token.createdBy}</td>
              <td>${formatTime(token.createdAt)}</td>
              <td>${token.expiresAt === null ? 'never' : formatTime(token.expiresAt)}</td>
              <td>${formatTime(token.lastUsedAt)}</td>
              <td>${tokenState(token, now)}</td>
              <td class="actions">${token.revokedAt === null
                ? postForm(`${href}/${token.id}/revoke`, editing, html`<button class="danger" type="submit">Revoke</button>`, {
                    target: PANEL,
                    confirm: `Revoke ${token.name}? Programs using it can no longer call ${name}.`,
                  })
                : ''}</td>
            </tr>`,
          )}
          </tbody>
        </table>`}
  </div>`;
}
