import { html, type Html } from './html.ts';

/** The number of open alerts the viewer may see, beside Alerts in the nav; empty when none is open. */
function alertBadge(open: number): Html {
  if (open === 0) return alertBadgeSlot();
  const title = open === 1 ? '1 open alert' : `${open} open alerts`;
  return html`<b id="alert-badge" class="badge danger" title="${title}">${String(open)}</b>`;
}

/** What every page's live socket sends when it opens, and again when an alert the viewer may see fires or resolves. */
export function alertBadgePartial(open: number): Html {
  return html`<hx-partial hx-target="#alert-badge" hx-swap="outerHTML">${alertBadge(open)}</hx-partial>`;
}

/** Where the layout puts the badge: filled by the page's live socket, so that no page counts alerts itself. */
export function alertBadgeSlot(): Html {
  return html`<b id="alert-badge"></b>`;
}
