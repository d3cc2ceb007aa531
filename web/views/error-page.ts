import { bareLayout, flash, type AssetUrls } from './layout.ts';
import { html, type Html } from './html.ts';

export function errorPage(props: { assets: AssetUrls; status: number; message: string }): Html {
  return bareLayout(
    `Error ${props.status}`,
    props.assets,
    html`<div class="login"><div class="panel">
      <h1>${props.status === 404 ? 'Not found' : 'Something is not right'}</h1>
      ${flash('error', props.message)}
      <p><a href="/">Back to the overview</a></p>
    </div></div>`,
  );
}
