import { bareLayout, flash, type AssetUrls } from './layout.ts';
import { html, type Html } from './html.ts';

export interface LoginPageProps {
  assets: AssetUrls;
  next: string;
  username?: string;
  error?: string;
}

export function loginPage(props: LoginPageProps): Html {
  return bareLayout(
    'Sign in',
    props.assets,
    html`<div class="login">
      <div class="panel">
        <h1>Trainyard</h1>
        ${props.error ? flash('error', props.error) : ''}
        <form method="post" action="/login">
          <input type="hidden" name="next" value="${props.next}">
          <label>Username <input name="username" autocomplete="username" required autofocus value="${props.username ?? ''}"></label>
          <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
          <button class="primary" type="submit">Sign in</button>
        </form>
      </div>
    </div>`,
  );
}
