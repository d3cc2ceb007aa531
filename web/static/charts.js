// Draws each [data-metric-chart] element as a uPlot line chart of the series its URL answers with, and each
// [data-compare-chart] element as one chart of several runs' series, one line per run.
/* global uPlot */

const COLORS = ['#3e82f7', '#e8590c', '#2f9e44', '#ae3ec9', '#f59f00', '#1098ad', '#e03131', '#5c7cfa', '#868e96', '#a61e4d'];

async function fetchSeries(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(String(response.status));
  return response.json();
}

function chartOptions(element, title, lines, height) {
  return {
    title,
    width: element.clientWidth,
    height,
    scales: { x: { time: false } },
    axes: [{ label: 'step' }, {}],
    series: [{ label: 'step' }, ...lines],
  };
}

async function drawChart(element) {
  let series;
  try {
    series = await fetchSeries(element.dataset.metricChart);
  } catch (error) {
    element.textContent = `Could not load ${element.dataset.metricKey} (${error.message})`;
    return;
  }
  const shown = series.total > series.steps.length ? `${series.steps.length} of ${series.total} points` : `${series.total} points`;
  const line = { label: series.key, stroke: COLORS[0], width: 1.5, spanGaps: false };
  element.replaceChildren();
  new uPlot(chartOptions(element, `${series.key} · ${shown}`, [line], 240), [series.steps, series.values], element);
}

/** Several series on one x axis: the union of their steps, null where a series has no point at a step. */
function alignSteps(all) {
  const steps = [...new Set(all.flatMap((series) => series.steps))].sort((a, b) => a - b);
  const position = new Map(steps.map((step, index) => [step, index]));
  const columns = all.map((series) => {
    const column = new Array(steps.length).fill(null);
    series.steps.forEach((step, index) => {
      column[position.get(step)] = series.values[index];
    });
    return column;
  });
  return [steps, ...columns];
}

async function drawComparison(element) {
  const runs = JSON.parse(element.dataset.compareChart);
  let all;
  try {
    all = await Promise.all(runs.map((run) => fetchSeries(run.url)));
  } catch (error) {
    element.textContent = `Could not load ${element.dataset.metricKey} (${error.message})`;
    return;
  }
  // Downsampled runs rarely share steps: a line spans the steps where only other runs have points.
  const lines = runs.map((run, index) => ({ label: run.label, stroke: COLORS[index % COLORS.length], width: 1.5, spanGaps: true }));
  element.replaceChildren();
  new uPlot(chartOptions(element, element.dataset.metricKey, lines, 320), alignSteps(all), element);
}

document.addEventListener('DOMContentLoaded', () => {
  for (const element of document.querySelectorAll('[data-metric-chart]')) drawChart(element);
  for (const element of document.querySelectorAll('[data-compare-chart]')) drawComparison(element);
});
