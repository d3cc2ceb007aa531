import { InvalidArgumentError, type Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentEventJson, DeploymentJson } from '../../serving/deployment-json.ts';
import { clientFromEnvironment, type ApiClient } from '../api-client.ts';
import { CliError } from '../cli-error.ts';
import { printJson, printList } from '../output.ts';

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
    .option('--no-wait', 'return once it is created')
    .option('--json', 'print the deployment as JSON (once ready, unless --no-wait)')
    .addHelpText('after', '\nExamples:\n  yard deploy models:/churn@champion --name churn\n  yard deploy models:/llm/2 --name llm --gpus 1 --image vllm/vllm-openai --port 8000 --health-path /health -- --model /model')
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

  program
    .command('deployments')
    .description('list the deployments you can see')
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
        ['VERSION', (deployment) => (deployment.rollout === null ? deployment.version : `${deployment.version} -> ${deployment.rollout}`)],
        ['READY', (deployment) => `${deployment.readyReplicas}/${deployment.replicas}`],
        ['PROJECT', (deployment) => deployment.project],
        ['PATH', (deployment) => deployment.path],
      ]);
    });

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
}
