import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { createServer as createHttpServer, type Server } from 'node:http';
import { serve } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { createApp, type App, type AppOptions } from './app.ts';
import { bootstrapAuth } from './auth/bootstrap.ts';
import { loadConfig, type Config, type ConfigInput } from './config.ts';
import { applyMigrations } from './db/migrate.ts';
import { ConfigError } from './lib/errors.ts';
import { createJobSystemMetrics } from './monitoring/job-system-metrics.ts';
import { servingRoutes, type ServingRoutes } from './server/routes/serving-routes.ts';
import { createServer } from './server/server.ts';
import { VERSION } from './version.ts';

export interface Appliance {
  app: App;
  url: string;
  /** Stops taking connections, lets requests in flight finish, then closes the database. */
  close(): Promise<void>;
}

const SESSION_SWEEP_MS = 60 * 60_000;
const SHUTDOWN_GRACE_MS = 10_000;

function listen(server: Server, config: Pick<Config, 'host' | 'port'>): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${config.host}:${config.port}`;
      if (error.code === 'EADDRINUSE') reject(new ConfigError(`port ${where} is already in use: stop the other server or pick another with --port`));
      else if (error.code === 'EACCES') reject(new ConfigError(`not allowed to listen on ${where}: pick a port above 1024 or run with the right privileges`));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') reject(new ConfigError(`cannot listen on ${where}: no such address on this machine`));
      else reject(error);
    });
    server.once('listening', () => resolve(server.address() as AddressInfo));
  });
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::']);
/** Docker's default bridge, whose address on the host is what `host.docker.internal` (host-gateway) names in a container. */
const DOCKER_BRIDGE = 'docker0';

export interface AddressSources {
  interfaces: typeof networkInterfaces;
  read: (path: string) => string;
}

const HOST_SOURCES: AddressSources = { interfaces: networkInterfaces, read: (path) => readFileSync(path, 'utf8') };
const ipv4Number = (address: string) => address.split('.').reduce((sum, byte) => sum * 256 + Number(byte), 0);

/**
 * The IPv4 address this host holds on interface `name`. os.networkInterfaces() leaves out a link that is down, as
 * docker0 is while no container runs; then the kernel's tables say it: the interface's subnet (/proc/net/route,
 * little-endian hex) and the host's own addresses (the `/32 host LOCAL` entries of /proc/net/fib_trie).
 */
export function interfaceAddress(name: string, sources: AddressSources = HOST_SOURCES): string | undefined {
  const listed = sources.interfaces()[name]?.find((entry) => entry.family === 'IPv4')?.address;
  if (listed) return listed;
  try {
    const route = sources
      .read('/proc/net/route')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .find((fields) => fields[0] === name && fields[2] === '00000000');
    if (!route) return undefined;
    const [network, mask] = [route[1], route[7]].map((hex) => Buffer.from(hex ?? '', 'hex').readUInt32LE(0));
    const locals = [...sources.read('/proc/net/fib_trie').matchAll(/\|-- ([\d.]+)\n\s+\/32 host LOCAL/g)].map((match) => match[1]!);
    return locals.find((address) => (ipv4Number(address) & mask!) >>> 0 === network);
  } catch {
    return undefined;
  }
}

/**
 * Where else to listen so that jobs' containers reach the appliance: the default host (127.0.0.1) is out of their
 * reach. The bridge address takes connections from this host's containers only, not from the network.
 */
export function bridgeAddress(config: Pick<Config, 'host' | 'bridgeHost'>, sources = HOST_SOURCES): string | undefined {
  if (config.bridgeHost === 'off' || WILDCARD_HOSTS.has(config.host)) return undefined;
  const address = config.bridgeHost === 'auto' ? interfaceAddress(DOCKER_BRIDGE, sources) : config.bridgeHost;
  return address === config.host ? undefined : address;
}

/** The second listener, on the bridge address at the main port; in `auto` mode a failure only costs jobs their tracking. */
async function listenOnBridge(app: App, fetch: (request: Request) => Response | Promise<Response>, port: number, serving: ServingRoutes): Promise<Server | undefined> {
  const host = bridgeAddress(app.config);
  if (!host) return undefined;
  const server = serve({ fetch, hostname: host, port, createServer: serving.createServer }) as Server;
  try {
    await listen(server, { host, port });
  } catch (error) {
    if (app.config.bridgeHost !== 'auto') throw error;
    app.log.warn({ err: error, host }, 'cannot listen on the Docker bridge: jobs will not reach MLflow');
    return undefined;
  }
  app.log.info({ url: `http://${host}:${port}` }, 'containers reach trainyard on the Docker bridge');
  return server;
}

/**
 * Port 0 asks for any free port: it is picked before the app is built, so that the config names the port the
 * appliance really listens on (a job's container is sent to it).
 */
async function concretePort(config: Config): Promise<Config> {
  if (config.port !== 0) return config;
  const probe = createHttpServer().listen(0, config.host);
  const { port } = await listen(probe, config);
  await new Promise((resolve) => probe.close(resolve));
  return Object.freeze({ ...config, port });
}

/** config -> app -> migrate -> first admin -> serve. */
export async function startAppliance(requested: Config, options: AppOptions = {}): Promise<Appliance> {
  const config = await concretePort(requested);
  const app = createApp(config, options);
  try {
    applyMigrations(app.db);
    if ((await bootstrapAuth({ users: app.users, projects: app.projects, adminUsername: config.adminUsername, adminPassword: config.adminPassword })) === 'created-admin') {
      app.log.info({ username: config.adminUsername }, 'created the first admin from TRAINYARD_ADMIN_PASSWORD');
    }
    app.tracking.experiments.ensureDefault();
  } catch (error) {
    app.close();
    throw error;
  }

  const http = createServer(app);
  const sockets = new WebSocketServer({ noServer: true });
  // /serve/<name>/... goes to the model's replicas below Hono, streamed both ways.
  const serving = servingRoutes({
    credentials: app.credentials,
    projects: app.projects,
    log: app.log,
    metrics: app.servingMetrics,
    target: (name) => app.deployments.target(name),
    trustProxy: config.trustProxy,
    asyncInference: app.asyncInference,
    samples: app.requestSamples,
  });
  const server = serve({ fetch: http.fetch, hostname: config.host, port: config.port, websocket: { server: sockets }, createServer: serving.createServer }) as Server;
  let address: AddressInfo;
  let bridge: Server | undefined;
  try {
    address = await listen(server, config);
    bridge = await listenOnBridge(app, http.fetch, address.port, serving);
  } catch (error) {
    server.close();
    app.close();
    throw error;
  }
  const sweeper = setInterval(() => app.sessions.sweep(), SESSION_SWEEP_MS).unref();
  // Not awaited: reconciling with Docker must not hold up serving, and an engine that is down only delays jobs.
  app.scheduler.start().catch((error: unknown) => app.log.error({ err: error }, 'the scheduler could not start'));
  app.deploymentManager.start().catch((error: unknown) => app.log.error({ err: error }, 'the deployment manager could not start'));
  app.asyncInference.start().catch((error: unknown) => app.log.error({ err: error }, 'asynchronous inference could not start'));
  try {
    app.alerts.start();
  } catch (error) {
    app.log.error({ err: error }, 'alerts could not start');
  }
  const jobSystemMetrics = createJobSystemMetrics(app, config.jobSystemMetricsIntervalMs);
  jobSystemMetrics.start();
  app.monitoring.start();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  app.log.info({ url, version: VERSION, dataDir: config.dataDir }, 'trainyard is listening');

  return {
    app,
    url,
    async close() {
      clearInterval(sweeper);
      await app.deploymentManager.stop();
      await app.asyncInference.stop();
      await app.alerts.stop();
      await app.scheduler.stop();
      await jobSystemMetrics.stop();
      await app.monitoring.stop();
      for (const socket of sockets.clients) socket.close(1001, 'server shutting down');
      const listeners = bridge ? [server, bridge] : [server];
      const closed = Promise.all(listeners.map((listener) => new Promise<void>((resolve) => listener.close(() => resolve()))));
      for (const listener of listeners) listener.closeIdleConnections();
      const forced = setTimeout(() => listeners.forEach((listener) => listener.closeAllConnections()), SHUTDOWN_GRACE_MS).unref();
      await closed;
      clearTimeout(forced);
      serving.close();
      app.close();
      app.log.info('trainyard stopped');
    },
  };
}

/** Runs until SIGTERM or SIGINT; a bad configuration is one line on stderr and exit code 2. */
export async function runServer(flags: ConfigInput & { config?: string } = {}): Promise<void> {
  let appliance: Appliance;
  try {
    appliance = await startAppliance(loadConfig(flags));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`trainyard: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    appliance.app.log.info({ signal }, 'shutting down');
    appliance.close().then(
      () => process.exit(0),
      (error: unknown) => {
        appliance.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
