#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { speedUpModuleLoading } from '../lib/module-hooks.ts';
import { ZodError } from 'zod';
import { ConfigError, HttpError } from '../lib/errors.ts';
import { VERSION } from '../version.ts';
import { CliError, EXIT } from './cli-error.ts';
import { adminCommands } from './commands/admin.ts';
import { alertsCommand } from './commands/alerts.ts';
import { deployCommands } from './commands/deploy.ts';
import { jobCommands } from './commands/jobs.ts';
import { runCommand } from './commands/run.ts';
import { sessionCommands } from './commands/session.ts';
import { tokenCommands } from './commands/token.ts';
import { usageCommand } from './commands/usage.ts';

function buildProgram(): Command {
  const program = new Command('yard')
    .description('Trainyard: experiment tracking, GPU jobs and model serving on your own server')
    .version(VERSION)
    .showHelpAfterError()
    // `yard run` hands everything after the command's name to the job: options come before subcommands.
    .enablePositionalOptions()
    .exitOverride();

  program
    .command('server')
    .description('run the appliance (also `npm start`)')
    .option('-p, --port <port>', 'port to listen on (TRAINYARD_PORT, default 8700)')
    .option('-H, --host <host>', 'address to listen on (TRAINYARD_HOST, default 127.0.0.1)')
    .option('-d, --data <dir>', 'data directory (TRAINYARD_DATA)')
    .option('-c, --config <file>', 'YAML or JSON config file (TRAINYARD_CONFIG)')
    .option('--gpus <spec>', 'GPUs: auto, none or simulated like fake:4xH100-80GB (TRAINYARD_GPUS, default auto)')
    .action(async (options: { port?: string; host?: string; data?: string; config?: string; gpus?: string }) => {
      // Loaded on demand so the client commands start without the server's modules.
      const { runServer } = await import('../appliance.ts');
      await runServer({ port: options.port, host: options.host, dataDir: options.data, config: options.config, gpus: options.gpus });
    });

  sessionCommands(program);
  tokenCommands(program);
  adminCommands(program);
  runCommand(program);
  jobCommands(program);
  deployCommands(program);
  usageCommand(program);
  alertsCommand(program);
  return program;
}

/** Maps every failure to one line on stderr and an exit code from EXIT. */
function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof CliError) {
    process.stderr.write(`yard: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof ConfigError || error instanceof HttpError) {
    process.stderr.write(`yard: ${error.message}\n`);
    return error instanceof HttpError && error.status === 409 ? EXIT.failed : EXIT.usage;
  }
  if (error instanceof ZodError) {
    process.stderr.write(`yard: ${error.issues[0]?.message ?? 'invalid input'}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`yard: ${(error as Error).stack ?? String(error)}\n`);
  return EXIT.failed;
}

/** Runs the command line in process.argv; a failure sets the exit code, never throws. */
export async function runYard(): Promise<void> {
  try {
    await buildProgram().parseAsync();
  } catch (error) {
    process.exitCode = exitCodeOf(error);
  }
}

// Run as the `yard` script; the `trainyard` entry (src/main.ts, the binary's bundle) imports it and calls runYard.
if (import.meta.main) {
  speedUpModuleLoading();
  void runYard();
}
