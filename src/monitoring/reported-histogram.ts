import { Histogram, type Registry } from 'prom-client';

/** One labelled series of a histogram kept elsewhere. */
export interface HistogramSeries {
  labels: Record<string, string>;
  /** Cumulative counts, one per upper bound of the histogram in order; the `+Inf` bucket is `count`. */
  cumulative: number[];
  count: number;
  /** Left out where the keeper does not add the observations up. */
  sum?: number;
}

export interface ReportedHistogramConfig {
  name: string;
  help: string;
  labelNames: string[];
  /** Upper bounds, in the histogram's unit, `+Inf` left out. */
  buckets: readonly number[];
  registry: Registry;
  read: () => HistogramSeries[];
}

/**
 * A histogram whose counts someone else keeps (a tally on a hot path, the serving proxy), rendered from them at
 * each scrape: prom-client's own observe() hashes and checks the labels at every call.
 */
export class ReportedHistogram extends Histogram<string> {
  readonly #config: ReportedHistogramConfig;

  constructor(config: ReportedHistogramConfig) {
    super({ name: config.name, help: config.help, labelNames: config.labelNames, buckets: [...config.buckets], registers: [config.registry] });
    this.#config = config;
  }

  /** What prom-client renders a histogram from: both the registry and `get()` call it. */
  async getForPromString() {
    const { name, help, buckets, read } = this.#config;
    const values = read().flatMap(({ labels, cumulative, count, sum }) => [
      ...buckets.map((le, index) => ({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative[index] ?? count })),
      { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count },
      ...(sum === undefined ? [] : [{ metricName: `${name}_sum`, labels, value: sum }]),
      { metricName: `${name}_count`, labels, value: count },
    ]);
    return { name, help, type: 'histogram', aggregator: 'sum', values };
  }
}
