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

// A followed log ([data-follow]) stays scrolled to its end unless the reader has scrolled up, and keeps at most
// data-cap lines: the oldest go as new ones arrive.
const LOG_END_SLACK_PX = 24;
const atEnd = (log) => log.scrollHeight - log.scrollTop - log.clientHeight <= LOG_END_SLACK_PX;
const followedLogs = () => document.querySelectorAll('.job-log[data-follow]');

document.addEventListener('htmx:before:swap', () => {
  for (const log of followedLogs()) log.dataset.pinned = String(atEnd(log));
});
document.addEventListener('htmx:after:swap', () => {
  for (const log of followedLogs()) {
    const lines = log.firstElementChild;
    const cap = Number(log.dataset.cap);
    while (lines && cap > 0 && lines.childElementCount > cap) lines.firstElementChild.remove();
    if (log.dataset.pinned !== 'false') log.scrollTop = log.scrollHeight;
  }
});
for (const log of document.querySelectorAll('.job-log')) log.scrollTop = log.scrollHeight;
