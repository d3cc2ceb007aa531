// What the dashboard needs beyond htmx attributes; the Content-Security-Policy allows no inline scripts.

function showLive(connected) {
  document.getElementById('live-dot')?.classList.toggle('on', connected);
}
document.addEventListener('htmx:ws:after:connection', () => showLive(true));
document.addEventListener('htmx:ws:close', () => showLive(false));
document.addEventListener('htmx:ws:error', () => showLive(false));

// Once the server accepts a request, an old error no longer applies, and a form marked data-reset
// empties itself so that pressing its button again does not repeat what was just done.
document.addEventListener('htmx:after:request', (event) => {
  if (event.detail.ctx.response.status >= 400) return;
  document.getElementById('flash')?.replaceChildren();
  event.target.closest?.('form[data-reset]')?.reset();
});
