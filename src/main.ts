#!/usr/bin/env node
// `trainyard`, from a checkout and as the shipped binary. With no arguments it runs the appliance, as a service unit
// starts it; with arguments it is the `yard` CLI (`trainyard server --port 9000`, `trainyard admin users`), and
// installed under the name `yard` it is the CLI always. The module hooks go in before anything else is loaded.
import { basename } from 'node:path';
import { speedUpModuleLoading } from './lib/module-hooks.ts';

const IDLE_CHECK_MS = 10_000;
/** The process used less CPU than this share of the last check's interval: nobody is using the appliance. */
const IDLE_CPU_SHARE = 0.01;
/** Heap grown by this much since the last collection here is worth giving back. */
const GROWTH_BYTES = 16 * 1024 * 1024;

type CollectGarbage = (options: { type: 'major'; flavor: 'last-resort' }) => void;

/**
 * V8 keeps what a burst of work grew its heap to (the young generation, old-space pages emptied since) until its
 * memory reducer sees a low allocation rate, which it measures only when it collects, so an idle process, collecting
 * nothing, keeps it all: after logging 10,000 runs the binary stayed at ~215 MB. Once the appliance has been idle for
 * a check's interval and its heap has grown, one memory-reducing collection (~50 ms; measured) brings it back to ~145 MB.
 * The timer never keeps a process alive; a short-lived CLI command never reaches it.
 */
function releaseMemoryWhenIdle(): void {
  let collect: CollectGarbage | undefined;
  let heapAfterCollecting = 0;
  let cpu = process.cpuUsage();
  setInterval(() => {
    const { user, system } = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const idle = (user + system) / 1000 < IDLE_CHECK_MS * IDLE_CPU_SHARE;
    if (!idle || process.memoryUsage().heapTotal < heapAfterCollecting + GROWTH_BYTES) return;
    if (!collect) {
      // V8 hands out its collector only to contexts made while the flag is set; set back, it keeps code caches valid.
      const { setFlagsFromString } = process.getBuiltinModule('node:v8');
      setFlagsFromString('--expose-gc');
      collect = process.getBuiltinModule('node:vm').runInNewContext('gc') as CollectGarbage;
      setFlagsFromString('--no-expose-gc');
    }
    collect({ type: 'major', flavor: 'last-resort' });
    heapAfterCollecting = process.memoryUsage().heapTotal;
  }, IDLE_CHECK_MS).unref();
}

speedUpModuleLoading();
releaseMemoryWhenIdle();
if (process.argv.length > 2 || basename(process.argv0) === 'yard') {
  void import('./cli/yard.ts').then(({ runYard }) => runYard());
} else {
  void import('./appliance.ts').then(({ runServer }) => runServer());
}
