import { InvalidArgumentError, type Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentEventJson, DeploymentJson } from '../../serving/deployment-json.ts';
import { clientFromEnvironment, type ApiClient } from '../api-client.ts';
import { CliError, EXIT } from '../cli-error.ts';
import { printJson, printList } from '../output.ts';
import { deploymentTokenCommands } from './deployment-tokens.ts';

interface DeployOptions {
  name: string;
  project: string;
  image?: string;
  port?: number;
  healthPath?: string;
  readinessTimeout?: string;
  gpus?: number;
  gpuMemory?: string;
  cpus?: number;
  memory?: string;
  replicas?: number;
  env: Record<string, string>;
  public?: boolean;
  canaryWeight?: number;
  sampleRate?: number;
  sampleMaxBytes?: string;
  wait: boolean;
  json?: boolean;
}

interface DeploymentDetail {
  deployment: DeploymentJson;
  events: DeploymentEventJson[];
}

const POLL_MS = 500;

const positiveInteger = (flag: string) => (text: string) => {
  if (!/^[1-9]\d*$/.test(text)) throw new InvalidArgumentError(`${flag} takes a whole number above 0, got "${text}"`);
  return Number(text);
};
const gpuCount = (text: string) => {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`--gpus takes a whole number, got "${text}"`);
  return Number(text);
};
const cpuCount = (text: string) => {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new InvalidArgumentError(`--cpus takes a number, got "${text}"`);
  return Number(text);
};
const canaryWeight = (text: string) => {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 99) throw new InvalidArgumentError(`--canary-weight takes a whole percent from 1 to 99, got "${text}"`);
  return Number(text);
};
const sampleRate = (text: string) => {
  if (!/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(text)) throw new InvalidArgumentError(`--sample-rate takes a share of calls from 0 to 1, like 0.1, got "${text}"`);
  return Number(text);
};
/** The settings an editor may change, as given on the command line (create and `deployments set`); canary weight `none` is null. */
const settingsOf = (options: { canaryWeight?: number | 'none'; sampleRate?: number; sampleMaxBytes?: string }) => ({
  ...(options.canaryWeight !== undefined && { canaryWeight: options.canaryWeight === 'none' ? null : options.canaryWeight }),
  ...(options.sampleRate !== undefined && { sampleRate: options.sampleRate }),
  ...(options.sampleMaxBytes !== undefined && { sampleMaxBytes: options.sampleMaxBytes }),
});
/** `NAME=value`, repeatable. */
const envPair = (text: string, previous: Record<string, string>) => {
  const equals = text.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError(`--env takes NAME=value, got "${text}"`);
  return { ...previous, [text.slice(0, equals)]: text.slice(equals + 1) };
};

const detailOf = (client: ApiClient, name: string) => client.call<DeploymentDetail>('GET', `/api/v1/deployments/${encodeURIComponent(name)}`);

/**
 * Asks for the deployment until `settled` says it is done (true) or failed (a message), printing each new reason
 * on stderr; undefined when the person pressed Ctrl-C, which stops waiting and leaves the deployment be.
 */
async function waitFor(client: ApiClient, name: string, settled: (detail: DeploymentDetail) => true | string | undefined): Promise<DeploymentDetail | undefined> {
  const interrupted = new AbortController();
  const interrupt = () => interrupted.abort();
  process.once('SIGINT', interrupt);
  let said = '';
  try {
    for (;;) {
      const detail = await detailOf(client, name);
      const { state, reason } = detail.deployment;
      const outcome = settled(detail);
      if (outcome === true) return detail;
      if (outcome !== undefined) throw new CliError(outcome);
      if (`${state}: ${reason}` !== said) process.stderr.write(`${state}: ${reason}\n`);
      said = `${state}: ${reason}`;
      await sleep(POLL_MS, undefined, { signal: interrupted.signal }).catch(() => undefined);
      if (interrupted.signal.aborted) return undefined;
    }
  } finally {
    process.off('SIGINT', interrupt);
  }
}

const ended = ({ deployment }: DeploymentDetail) =>
  deployment.state === 'failed' ? `deployment ${deployment.name} failed: ${deployment.reason}` : deployment.state === 'stopped' ? `deployment ${deployment.name} was stopped: ${deployment.reason}` : undefined;

function stoppedWaiting(name: string): void {
  process.stderr.write(`\nStopped waiting; deployment ${name} goes on.\n  yard deployments      shows its state\n  yard undeploy ${name}    stops it\n`);
  process.exitCode = 130;
}

/** The URL on stdout (for scripts), and on stderr how to call it. */
function printReady(client: ApiClient, deployment: DeploymentJson): void {
  const url = `${client.url}${deployment.path}`;
  const auth = deployment.public ? '' : '-H "Authorization: Bearer $TRAINYARD_TOKEN" ';
  process.stderr.write(
    `Deployment ${deployment.name} is ready: version ${deployment.version} of ${deployment.model}, ${deployment.readyReplicas} of ${deployment.replicas} replicas\n` +
      `Call it (MLflow's scoring protocol with the default image; other servers' paths pass through unchanged):\n` +
      `  curl ${auth}-H "Content-Type: application/json" -d '{"inputs": [[1.0, 2.0]]}' ${url}/invocations\n`,
  );
  process.stdout.write(`${url}\n`);
}

export function deployCommands(program: Command): void {
  program
    .command('deploy')
    .description('serve a registered model version (or the version an alias names) behind /serve/<name>, and wait until it is ready')
    .argument('<model-uri>', 'models:/<model>/<version>, or models:/<model>@<alias> to roll out each version the alias moves to')
    .argument('[command...]', "the server's command and arguments, after -- (default: the image's own)")
    .requiredOption('--name <name>', 'the deployment name: /serve/<name>/...')
    .option('--project <name>', 'the project it belongs to', 'default')
    .option('--image <image>', "the serving image (default: the server's defaultServingImage, a scikit-learn scoring server)")
    .option('--port <port>', 'the port the server listens on in its container (default 8080, also set as $PORT)', positiveInteger('--port'))
    .option('--health-path <path>', 'answers 2xx once the model is loaded (default /ping)')
    .option('--readiness-timeout <duration>', 'fail when not ready this long after the container starts, e.g. 5m (default 120s)')
    .option('--gpus <n>', 'whole GPUs per replica', gpuCount)
    .option('--gpu-memory <size>', 'GPU memory per replica on a shared GPU instead, e.g. 10GB')
    .option('--cpus <n>', 'CPUs per replica', cpuCount)
    .option('--memory <size>', 'memory limit per replica, e.g. 4GB')
    .option('--replicas <n>', 'replicas behind the proxy, 1 to 8 (default 1)', positiveInteger('--replicas'))
    .option('--env <NAME=value>', 'an environment variable for the server (repeatable)', envPair, {})
    .option('--public', 'anyone may call it without a token')
    .option('--canary-weight <percent>', 'when the alias moves, the new version first takes this share of the calls (1-99) until `yard promote` or `yard rollback`', canaryWeight)
    .option('--sample-rate <share>', 'keep the bodies of this share of the calls (0-1, e.g. 0.1) for drift checks', sampleRate)
    .option('--sample-max-bytes <size>', 'the most kept of each sampled body, e.g. 64KB (default), up to 1MB')
    .option('--no-wait', 'return once it is created')
    .option('--json', 'print the deployment as JSON (once ready, unless --no-wait)')
    .addHelpText('after', '\nExamples:\n  yard deploy models:/churn@champion --name churn --canary-weight 20 --sample-rate 0.1\n  yard deploy models:/llm/2 --name llm --gpus 1 --image vllm/vllm-openai --port 8000 --health-path /health -- --model /model')
    .action(async (model: string, command: string[], options: DeployOptions) => {
      const client = clientFromEnvironment();
      const { deployment } = await client.call<{ deployment: DeploymentJson }>('POST', '/api/v1/deployments', {
        name: options.name,
        project: options.project,
        model,
        env: options.env,
        ...(command.length > 0 && { command }),
        ...(options.image !== undefined && { image: options.image }),
        ...(options.port !== undefined && { port: options.port }),
        ...(options.healthPath !== undefined && { healthPath: options.healthPath }),
        ...(options.readinessTimeout !== undefined && { readinessTimeout: options.readinessTimeout }),
        ...(options.gpus !== undefined && { gpus: options.gpus }),
        ...(options.gpuMemory !== undefined && { gpuMemory: options.gpuMemory }),
        ...(options.cpus !== undefined && { cpus: options.cpus }),
        ...(options.memory !== undefined && { memory: options.memory }),
        ...(options.replicas !== undefined && { replicas: options.replicas }),
        ...(options.public && { public: true }),
        ...settingsOf(options),
      });
      if (!options.wait) {
        if (options.json) return printJson({ deployment });
        process.stderr.write(`Deployment ${deployment.name} is ${deployment.state}: follow it with \`yard deployments\`\n`);
        return;
      }
      process.stderr.write(`Deploying version ${deployment.version} of ${model} as ${deployment.name}; Ctrl-C stops waiting\n`);
      const ready = await waitFor(client, deployment.name, (detail) => (detail.deployment.state === 'ready' ? true : ended(detail)));
      if (!ready) return stoppedWaiting(deployment.name);
      if (options.json) return printJson({ deployment: ready.deployment });
      printReady(client, ready.deployment);
    });

  const deployments = program
    .command('deployments')
    .description('list the deployments you can see; change their settings and tokens with the subcommands')
    // `deployments token list churn --json`: the subcommand's own --json, not the list's.
    .enablePositionalOptions()
    .option('--all', 'stopped and failed ones too')
    .option('--project <name>', 'only this project')
    .option('--json', 'print JSON')
    .action(async (options: { all?: boolean; project?: string; json?: boolean }) => {
      const query = new URLSearchParams({ ...(options.all && { all: '1' }), ...(options.project && { project: options.project }) });
      const result = await clientFromEnvironment().call<{ deployments: DeploymentJson[] }>('GET', `/api/v1/deployments?${query}`);
      printList(Boolean(options.json), result, result.deployments, [
        ['NAME', (deployment) => deployment.name],
        ['STATE', (deployment) => deployment.state],
        ['MODEL', (deployment) => deployment.model],
        ['VERSION', versionColumn],
        ['READY', (deployment) => `${deployment.readyReplicas}/${deployment.replicas}`],
        ['PROJECT', (deployment) => deployment.project],
        ['PATH', (deployment) => deployment.path],
      ]);
    });

  deployments
    .command('set')
    .description("change a deployment's settings; the proxy applies them to the next call")
    .argument('<name>', 'the deployment (see `yard deployments`)')
    .option('--public', 'anyone may call it without a token')
    .option('--private', 'only callers with a token (or a session) may call it')
    // commander keeps no null from a parser: "none" stays a word until the request is made.
    .option('--canary-weight <percent>', 'the share of calls (1-99) a version the alias moves to takes first, or "none" to switch all at once', (text: string) =>
      text === 'none' ? 'none' : canaryWeight(text),
    )
    .option('--sample-rate <share>', 'keep the bodies of this share of the calls (0-1; 0 stops sampling)', sampleRate)
    .option('--sample-max-bytes <size>', 'the most kept of each sampled body, e.g. 64KB, up to 1MB')
    .option('--json', 'print the deployment as JSON')
    .action(async (name: string, options: { public?: boolean; private?: boolean; canaryWeight?: number | 'none'; sampleRate?: number; sampleMaxBytes?: string; json?: boolean }) => {
      if (options.public && options.private) throw new CliError('choose --public or --private, not both', EXIT.usage);
      const settings = { ...(options.public && { public: true }), ...(options.private && { public: false }), ...settingsOf(options) };
      if (Object.keys(settings).length === 0) throw new CliError('say what to change: --public, --private, --canary-weight, --sample-rate or --sample-max-bytes', EXIT.usage);
      const { deployment } = await clientFromEnvironment().call<{ deployment: DeploymentJson }>('PATCH', `/api/v1/deployments/${encodeURIComponent(name)}`, settings);
      if (options.json) return printJson({ deployment });
      const canary = deployment.canaryWeight === null ? 'all calls switch when the alias moves' : `a version the alias moves to takes ${deployment.canaryWeight}% of the calls until promoted`;
      const sampling = deployment.sampleRate === 0 ? 'no sampling' : `sampling ${deployment.sampleRate * 100}% of the calls, up to ${deployment.sampleMaxBytes} bytes per body`;
      process.stderr.write(`Deployment ${name}: ${deployment.public ? 'public' : 'private'}; ${canary}; ${sampling}\n`);
    });

  deploymentTokenCommands(deployments);

  program
    .command('undeploy')
    .description('stop serving a deployment (its history stays)')
    .argument('<name>', 'the deployment (see `yard deployments`)')
    .action(async (name: string) => {
      await clientFromEnvironment().call('DELETE', `/api/v1/deployments/${encodeURIComponent(name)}`);
      process.stderr.write(`Undeployed ${name}: its replicas stop\n`);
    });

  program
    .command('rollback')
    .description('serve the previous version again, switching traffic once it is ready')
    .argument('<name>', 'the deployment (see `yard deployments`)')
    .option('--no-wait', 'return once the rollback is asked for')
    .action(async (name: string, options: { wait: boolean }) => {
      const client = clientFromEnvironment();
      const { deployment } = await client.call<{ deployment: DeploymentJson }>('POST', `/api/v1/deployments/${encodeURIComponent(name)}/rollback`);
      if (deployment.canary) return rollBackCanary(client, deployment, options.wait);
      const to = deployment.rollout;
      process.stderr.write(`Rolling ${name} back from version ${deployment.version} to version ${to}\n`);
      if (!options.wait) return;
      const done = await waitFor(client, name, (detail) => {
        if (detail.deployment.rollout !== null) return ended(detail);
        if (detail.deployment.version === to) return true;
        const failure = detail.events.findLast((event) => event.message.startsWith(`rollout of version ${to} failed`));
        return failure?.message ?? ended(detail) ?? `the rollback to version ${to} did not happen`;
      });
      if (!done) return stoppedWaiting(name);
      process.stderr.write(`Deployment ${name} serves version ${to} again\n`);
    });

  program
    .command('promote')
    .description("send every call to the canary version (see --canary-weight); the old version's replicas stop")
    .argument('<name>', 'the deployment (see `yard deployments`)')
    .option('--no-wait', 'return once the promotion is asked for')
    .action(async (name: string, options: { wait: boolean }) => {
      const client = clientFromEnvironment();
      const { deployment } = await client.call<{ deployment: DeploymentJson }>('POST', `/api/v1/deployments/${encodeURIComponent(name)}/promote`);
      const to = deployment.canary!.version;
      process.stderr.write(`Promoting version ${to} of ${name}: it takes every call, version ${deployment.version} stops\n`);
      if (!options.wait) return;
      const done = await waitFor(client, name, (detail) => (detail.deployment.version === to && detail.deployment.rollout === null ? true : ended(detail)));
      if (!done) return stoppedWaiting(name);
      process.stderr.write(`Deployment ${name} serves version ${to}\n`);
    });
}

/** `yard deployments` shows a rollout as `1 -> 2`, and a canary with its share. */
function versionColumn({ version, rollout, canary }: DeploymentJson): string {
  if (canary) return `${version} -> ${canary.version} (canary ${canary.weight}%)`;
  return rollout === null ? String(version) : `${version} -> ${rollout}`;
}

async function rollBackCanary(client: ApiClient, deployment: DeploymentJson, wait: boolean): Promise<void> {
  const { name, version, canary } = deployment;
  process.stderr.write(`Rolling back the canary of version ${canary!.version} of ${name}: version ${version} takes every call again\n`);
  if (!wait) return;
  const done = await waitFor(client, name, (detail) => (detail.deployment.rollout === null ? true : ended(detail)));
  if (!done) return stoppedWaiting(name);
  process.stderr.write(`Deployment ${name} serves version ${version} only\n`);
}
