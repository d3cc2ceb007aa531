#!/usr/bin/env node
// The server's entry point (`trainyard`): the module hooks go in before the appliance's modules are loaded.
import { speedUpModuleLoading } from './lib/module-hooks.ts';

speedUpModuleLoading();
const { runServer } = await import('./appliance.ts');
await runServer();
