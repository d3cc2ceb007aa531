import { tokenReach } from '../../src/lib/token-reach.ts';
import type { PublicToken } from '../../src/auth/tokens.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';
import { settingsNav } from './settings-nav.ts';

function tokenState(token: PublicToken, now: number): Html {
  if (token.revokedAt !== null) return html`<span class="badge danger">revoked</span>`;
  if (token.expiresAt !== null && token.expiresAt <= now) return html`<span class="badge warn">expired</span>`;
  return html`<span class="badge ok">active</span>`;
}

/** The token table; also the fragment swapped in after a token is created or revoked. */
export function tokenList(props: { tokens: PublicToken[]; now: number; csrfToken: string; created?: string }): Html {
  return html`<div id="token-list">
    ${props.created
      ? html`<div class="secret" id="new-token"><strong>New token</strong><code>${props.created}</code><span class="muted">Copy it now: it is not shown again.</span></div>`
      : ''}
    ${props.tokens.length === 0
      ? html`<p class="empty">No tokens yet.</p>`
      : html`<table>
          <thead><tr><th>Name</th><th>Token</th><th>Scope</th><th>Created</th><th>Expires</th><th>Last used</th><th>State</th><th></th></tr></thead>
          <tbody>
          ${props.tokens.map(
            (token) => html`<tr>
              <td>${token.name}</td>
              <td><code>${token.prefix}…</code></td>
              <td>${tokenReach(token)}</td>
              <td>${formatTime(token.createdAt)}</td>
              <td>${token.expiresAt === null ? 'never' : formatTime(token.expiresAt)}</td>
              <td>${formatTime(token.lastUsedAt)}</td>
              <td>${tokenState(token, props.now)}</td>
              <td class="actions">${token.revokedAt === null
                ? html`<form method="post" action="/settings/tokens/${token.id}/revoke" hx-post="/settings/tokens/${token.id}/revoke" hx-target="#token-list" hx-swap="outerHTML" hx-confirm="Revoke ${token.name}? Scripts using it stop working.">
                    <input type="hidden" name="_csrf" value="${props.csrfToken}">
                    <button class="danger" type="submit">Revoke</button>
                  </form>`
                : ''}</td>
            </tr>`,
          )}
          </tbody>
        </table>`}
  </div>`;
}

export function tokensPage(props: LayoutProps & { tokens: PublicToken[]; now: number; serverUrl: string; created?: string }): Html {
  const csrfToken = props.viewer.csrfToken;
  return layout(
    props,
    html`${settingsNav('tokens')}
    <div class="panel">
      <h2>Create an API token</h2>
      <p class="muted">Tokens let the <code>yard</code> CLI, scripts and the <code>mlflow</code> client act as you. Send one as <code>Authorization: Bearer &lt;token&gt;</code>.</p>
      <form data-reset class="inline" method="post" action="/settings/tokens" hx-post="/settings/tokens" hx-target="#token-list" hx-swap="outerHTML">
        <input type="hidden" name="_csrf" value="${csrfToken}">
        <label>Name <input name="name" required maxlength="100" placeholder="laptop"></label>
        <label>Scope <select name="scope"><option value="write">read and write</option><option value="read">read only</option></select></label>
        <label>Expires after <select name="expiresIn"><option value="30d">30 days</option><option value="7d">7 days</option><option value="90d">90 days</option><option value="365d">1 year</option><option value="">never</option></select></label>
        <button class="primary" type="submit">Create token</button>
      </form>
    </div>
    <div class="panel">
      <h2>Your tokens</h2>
      ${tokenList({ tokens: props.tokens, now: props.now, csrfToken, ...(props.created && { created: props.created }) })}
    </div>
    <div class="panel">
      <h2>Use a token</h2>
      <pre class="snippet">yard login ${props.serverUrl}
export MLFLOW_TRACKING_URI=${props.serverUrl}
export MLFLOW_TRACKING_TOKEN=&lt;token&gt;</pre>
    </div>`,
  );
}
