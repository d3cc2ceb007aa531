import type { AuditEvent } from '../../src/audit/audit.ts';
import { layout, type LayoutProps } from './layout.ts';
import { formatTime, html, type Html } from './html.ts';
import { settingsNav } from './settings-nav.ts';

export function auditRow(event: AuditEvent): Html {
  const detail = Object.keys(event.detail).length ? JSON.stringify(event.detail) : '';
  return html`<tr id="audit-${event.id}">
    <td class="mono">${formatTime(event.at)}</td>
    <td>${event.actor}</td>
    <td><span class="badge ${event.action.endsWith('failure') ? 'danger' : ''}">${event.action}</span></td>
    <td>${event.target}</td>
    <td class="mono muted">${detail}</td>
    <td class="mono muted">${event.ip}</td>
  </tr>`;
}

/** What the live channel pushes when an event is recorded: a row prepended to the open audit table. */
export function auditLivePartial(event: AuditEvent): Html {
  return html`<hx-partial hx-target="#audit-rows" hx-swap="afterbegin">${auditRow(event)}</hx-partial>`;
}

export function auditPage(props: LayoutProps & { events: AuditEvent[]; olderThan?: number }): Html {
  return layout(
    props,
    html`${settingsNav('audit')}
    <div class="panel">
      <h2>Audit log <span class="muted">— newest first, updates live</span></h2>
      <table>
        <thead><tr><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>Detail</th><th>Address</th></tr></thead>
        <tbody id="audit-rows">${props.events.map(auditRow)}</tbody>
      </table>
      ${props.olderThan ? html`<p><a href="/admin/audit?before=${props.olderThan}">Older entries →</a></p>` : ''}
    </div>`,
  );
}
