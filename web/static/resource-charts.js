// Draws each [data-resource-chart] element as a uPlot chart of a GPU's, the host's, a job's or a deployment's
// series over the last hour (from the series API), then appends the points the live channel pushes after each
// sampler round: a JSON message {"points": [{subject, at, values}]}. data-points counts the points shown.
/* global uPlot */

const COLORS = ['#3e82f7', '#e8590c', '#2f9e44', '#ae3ec9', '#f59f00', '#1098ad'];
const HEIGHT = 200;
const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

// Binary units labelled as the rest of the dashboard labels them (web/views: formatBytes).
function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

// Each unit has a scale and an axis of its own (`axisSize` px wide); `range` pins a scale, the others start at zero.
const UNITS = {
  percent: { format: (value) => `${Math.round(value)}%`, range: [0, 100], axisSize: 48 },
  celsius: { format: (value) => `${Math.round(value)} °C`, axisSize: 52 },
  watts: { format: (value) => `${Math.round(value)} W`, axisSize: 60 },
  bytes: { format: formatBytes, axisSize: 72 },
  bytesPerSecond: { format: (value) => `${formatBytes(value)}/s`, axisSize: 84 },
  cores: { format: (value) => `${value.toFixed(2)} cores`, axisSize: 80 },
  load: { format: (value) => value.toFixed(2), axisSize: 48 },
};

const fromZero = (_plot, _min, max) => [0, max > 0 ? max * 1.1 : 1];

// A line's value in a point: ratios become percentages, and a `per` line is its field as a share of another.
function valueOf(values, line) {
  const value = values[line.field];
  if (value === null || value === undefined) return null;
  if (line.per) return values[line.per] ? (100 * value) / values[line.per] : null;
  return line.unit === 'percent' ? 100 * value : value;
}

function plotOptions(spec, width) {
  const units = [...new Set(spec.lines.map((line) => line.unit))];
  return {
    width,
    height: HEIGHT,
    ms: 1,
    tzDate: (ms) => uPlot.tzDate(new Date(ms), 'Etc/UTC'),
    scales: Object.fromEntries(units.map((unit) => [unit, { range: UNITS[unit].range ?? fromZero }])),
    axes: [
      {},
      ...units.map((unit, index) => ({
        scale: unit,
        side: index % 2 ? 1 : 3,
        size: UNITS[unit].axisSize,
        grid: { show: index === 0 },
        values: (_plot, splits) => splits.map((split) => UNITS[unit].format(split)),
      })),
    ],
    series: [
      { label: 'UTC' },
      ...spec.lines.map((line, index) => ({
        label: line.label,
        scale: line.unit,
        stroke: COLORS[index % COLORS.length],
        width: 1.5,
        value: (_plot, value) => (value === null || value === undefined ? '—' : UNITS[line.unit].format(value)),
      })),
    ],
  };
}

// The newest known value of each line, as the text beside the chart's title.
function showReading(chart) {
  const [times, ...columns] = chart.data;
  chart.element.dataset.points = String(times.length);
  const reading = chart.element.querySelector('.chart-reading');
  if (times.length === 0) {
    reading.textContent = 'no samples in the last hour yet';
    return;
  }
  const parts = chart.spec.lines.map((line, index) => {
    const value = columns[index].findLast((candidate) => candidate !== null);
    return `${line.label} ${value === undefined ? '—' : UNITS[line.unit].format(value)}`;
  });
  reading.textContent = parts.join(' · ');
}

function append(chart, point) {
  const times = chart.data[0];
  if (times.length && point.at <= times.at(-1)) return;
  chart.data[0].push(point.at);
  chart.spec.lines.forEach((line, index) => chart.data[index + 1].push(valueOf(point.values, line)));
  while (times[0] < point.at - chart.spec.windowMs) for (const column of chart.data) column.shift();
}

async function load(chart) {
  chart.loading = true;
  const response = await fetch(chart.spec.url, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`${response.status} ${(await response.json().catch(() => ({}))).message ?? ''}`.trim());
  const series = await response.json();
  const row = (index) => Object.fromEntries(Object.entries(series.fields).map(([field, column]) => [field, column[index]]));
  chart.data = [series.at.slice(), ...chart.spec.lines.map((line) => series.at.map((_, index) => valueOf(row(index), line)))];
  // Points pushed while the request was out.
  for (const point of chart.early.splice(0)) append(chart, point);
  chart.loading = false;
  const plot = chart.element.querySelector('.chart-plot');
  if (chart.plot) chart.plot.setData(chart.data);
  else chart.plot = new uPlot(plotOptions(chart.spec, plot.clientWidth), chart.data, plot);
  showReading(chart);
}

function receive(chart, point) {
  if (chart.loading) {
    chart.early.push(point);
    return;
  }
  // A chart whose series could not be loaded stays as it is.
  if (!chart.plot) return;
  append(chart, point);
  chart.plot.setData(chart.data);
  showReading(chart);
}

const charts = [...document.querySelectorAll('[data-resource-chart]')].map((element) => ({
  element,
  spec: JSON.parse(element.dataset.resourceChart),
  data: undefined,
  plot: undefined,
  loading: false,
  early: [],
}));

function loadAll() {
  for (const chart of charts) {
    load(chart).catch((error) => {
      chart.loading = false;
      chart.early = [];
      chart.element.querySelector('.chart-reading').textContent = `could not load the series (${error.message})`;
    });
  }
}

document.addEventListener('htmx:ws:after:message:incoming', (event) => {
  const text = event.detail.message.data;
  if (typeof text !== 'string' || !text.startsWith('{')) return;
  const { points } = JSON.parse(text);
  if (!Array.isArray(points)) return;
  for (const point of points) for (const chart of charts) if (chart.spec.subject === point.subject) receive(chart, point);
});

// A socket that closed (a background tab) missed points: a reconnection reads the last hour again.
let connections = 0;
document.addEventListener('htmx:ws:after:connection', () => {
  if (connections++ > 0) loadAll();
});

window.addEventListener('resize', () => {
  for (const { plot, element } of charts) plot?.setSize({ width: element.querySelector('.chart-plot').clientWidth, height: HEIGHT });
});

loadAll();
