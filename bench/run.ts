import { benchArtifacts } from './artifacts.ts';
import { benchPlacement } from './placement.ts';
import { benchContainers } from './containers.ts';
import { benchJobs } from './jobs.ts';
import { benchMonitoring } from './monitoring.ts';
import { printResult, type BenchResult } from './report.ts';
import { benchServing } from './serving.ts';
import { benchStartup } from './startup.ts';
import { benchTracking } from './tracking.ts';

/**
 * Every benchmark, in the order `npm run bench` runs them; a new one is one line here.
 * `npm run bench -- startup` (names, any number) runs only those.
 */
const BENCHMARKS: Array<{ name: string; run: () => Promise<BenchResult> }> = [
  { name: 'startup', run: benchStartup },
  { name: 'artifacts', run: benchArtifacts },
  { name: 'tracking', run: benchTracking },
  { name: 'placement', run: benchPlacement },
  { name: 'containers', run: benchContainers },
  { name: 'jobs', run: benchJobs },
  { name: 'serving', run: benchServing },
  { name: 'monitoring', run: benchMonitoring },
];

// A Ctrl-C still goes through process.exit, so the benches' exit hooks kill their children and remove temp dirs.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\nbench: interrupted by ${signal}`);
    process.exit(130);
  });
}

const wanted = process.argv.slice(2).filter((arg) => arg !== '--');
const unknown = wanted.filter((name) => !BENCHMARKS.some((bench) => bench.name === name));
if (unknown.length > 0) {
  console.error(`bench: no benchmark named ${unknown.join(', ')}; there are: ${BENCHMARKS.map((bench) => bench.name).join(', ')}`);
  process.exit(2);
}
const selected = wanted.length === 0 ? BENCHMARKS : BENCHMARKS.filter((bench) => wanted.includes(bench.name));

console.log(`bench: node ${process.version} (${process.execPath}), ${new Date().toISOString()}`);
let failed = 0;
for (const bench of selected) {
  const startedAt = performance.now();
  try {
    const result = await bench.run();
    printResult(result);
    console.log(`${bench.name}: done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  } catch (error) {
    failed++;
    console.error(`${bench.name}: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
if (failed > 0) {
  console.error(`bench: ${failed} of ${selected.length} benchmark(s) failed`);
  process.exitCode = 1;
}
