import { html, type Html } from './html.ts';
import { keyValueTable } from './run-format.ts';

/** What an editor's forms need; absent for viewers, who see no forms. */
export interface Editing {
  csrfToken: string;
}

interface FormOptions {
  /** The fragment the answer replaces; none when the answer sends the browser elsewhere. */
  target?: string;
  className?: string;
  /** Asked before anything is sent. */
  confirm?: string;
  /** Empties itself once the server accepts it. */
  reset?: boolean;
}

/**
 * A form htmx posts, swapping the answer over `target`; without JavaScript the same form posts the plain way
 * and is answered with the whole page.
 */
export function postForm(action: string, editing: Editing, content: Html, options: FormOptions = {}): Html {
  return html`<form${options.reset ? html` data-reset` : ''}${options.className ? html` class="${options.className}"` : ''} method="post" action="${action}" hx-post="${action}"${
    options.target ? html` hx-target="${options.target}" hx-swap="outerHTML"` : ''
  }${options.confirm ? html` hx-confirm="${options.confirm}"` : ''}>
    <input type="hidden" name="_csrf" value="${editing.csrfToken}">
    ${content}
  </form>`;
}

/** A description as written (line breaks kept), and for editors a form to change it. */
export function descriptionSection(description: string, editing: Editing | undefined, action: string, target: string): Html {
  return html`${description ? html`<p class="description">${description}</p>` : html`<p class="empty">No description.</p>`}
    ${editing
      ? html`<details class="edit">
          <summary>Edit description</summary>
          ${postForm(
            action,
            editing,
            html`<textarea name="description" rows="5" maxlength="65535" aria-label="Description">${description}</textarea>
              <div><button class="primary" type="submit">Save description</button></div>`,
            { target, className: 'stacked' },
          )}
        </details>`
      : ''}`;
}

/** Tags as a table; editors also get a delete button per tag and a form to add or change one. */
export function tagSection(tags: Array<{ key: string; value: string }>, editing: Editing | undefined, action: string, target: string): Html {
  if (!editing) return keyValueTable(tags, 'No tags.');
  return html`${tags.length
      ? html`<table class="tags">
          <tbody>
          ${tags.map(
            ({ key, value }) => html`<tr>
              <td class="mono">${key}</td>
              <td class="mono">${value}</td>
              <td class="actions">${postForm(
                `${action}/delete`,
                editing,
                html`<input type="hidden" name="key" value="${key}"><button class="danger" type="submit" aria-label="Delete tag ${key}">Delete</button>`,
                { target, confirm: `Delete the tag ${key}?` },
              )}</td>
            </tr>`,
          )}
          </tbody>
        </table>`
      : html`<p class="empty">No tags.</p>`}
    ${postForm(
      action,
      editing,
      html`<label>Key <input name="key" required maxlength="250" placeholder="team"></label>
        <label>Value <input name="value" maxlength="5000" placeholder="risk"></label>
        <button class="primary" type="submit">Set tag</button>`,
      { target, className: 'inline tag-form', reset: true },
    )}`;
}
