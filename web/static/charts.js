// Draws each [data-metric-chart] element as a uPlot line chart of the series its URL answers with.
/* global uPlot */

async function drawChart(element) {
  const response = await fetch(element.dataset.metricChart, { headers: { Accept: 'application/json' } });
  if (!response.ok) {
    element.textContent = `Could not load ${element.dataset.metricKey} (${response.status})`;
    return;
  }
  const series = await response.json();
  const shown = series.total > series.steps.length ? `${series.steps.length} of ${series.total} points` : `${series.total} points`;
  const options = {
    title: `${series.key} · ${shown}`,
    width: element.clientWidth,
    height: 240,
    scales: { x: { time: false } },
    axes: [{ label: 'step' }, {}],
    series: [{ label: 'step' }, { label: series.key, stroke: '#3e82f7', width: 1.5, spanGaps: false }],
  };
  element.replaceChildren();
  new uPlot(options, [series.steps, series.values], element);
}

document.addEventListener('DOMContentLoaded', () => {
  for (const element of document.querySelectorAll('[data-metric-chart]')) drawChart(element);
});
