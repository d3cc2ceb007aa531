import { html, type Html } from './html.ts';
import { postForm } from './model-forms.ts';

export interface SubmitForm {
  csrfToken: string;
  /** The projects where the viewer is an editor: where they may submit. */
  projects: readonly string[];
  defaultImage: string;
}

/**
 * The form for a new job. The command is one argument per line and is never split by a shell: what is typed on
 * a line is one argument, spaces and quotes included. Posted to `action` (the page's own filter), it answers
 * with the tables for that filter.
 */
export function jobSubmitForm(form: SubmitForm, action: string): Html {
  return html`<details class="panel submit-job" id="submit-job">
    <summary>Submit a job</summary>
    <div id="submit-result"></div>
    ${postForm(
      action,
      { csrfToken: form.csrfToken },
      html`<div class="job-form">
        <label>Project <select name="project">${form.projects.map((name) => html`<option value="${name}">${name}</option>`)}</select></label>
        <label>Name <input name="name" maxlength="200" placeholder="defaults to the command"></label>
        <label class="wide">Image <input name="image" required maxlength="512" value="${form.defaultImage}"></label>
        <label class="tall">Command, one argument per line
          <textarea name="command" rows="5" required wrap="off" spellcheck="false" placeholder="python&#10;train.py&#10;--epochs&#10;10"></textarea></label>
        <label class="tall">Environment, one NAME=value per line
          <textarea name="env" rows="5" wrap="off" spellcheck="false" placeholder="WANDB_MODE=offline"></textarea></label>
        <label>GPUs <input name="gpus" type="number" min="0" max="64" step="1" placeholder="0"></label>
        <label>or GPU memory <input name="gpuMemory" placeholder="20GB" size="8"></label>
        <label>CPUs <input name="cpus" type="number" min="0" step="any" placeholder="any"></label>
        <label>Memory <input name="memory" placeholder="32GB" size="8"></label>
        <label>Priority <input name="priority" type="number" min="-100" max="100" step="1" value="0"></label>
        <label>Time limit <input name="timeLimit" placeholder="12h" size="8"></label>
      </div>
      <div class="form-actions"><button class="primary" type="submit">Submit job</button>
        <span class="muted">Blank lines are left out; nothing else is changed: no shell, no quoting.</span></div>`,
      { target: '#job-tables', className: 'stacked', reset: true },
    )}
  </details>`;
}
