import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { createApp, type App, type AppOptions } from './app.ts';
import { bootstrapAuth } from './auth/bootstrap.ts';
import { loadConfig, type Config, type ConfigInput } from './config.ts';
import { applyMigrations } from './db/migrate.ts';
import { ConfigError } from './lib/errors.ts';
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

function listen(server: Server, config: Config): Promise<AddressInfo> {
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

/** config -> app -> migrate -> first admin -> serve. */
export async function startAppliance(config: Config, options: AppOptions = {}): Promise<Appliance> {
  const app = createApp(config, options);
  try {
    applyMigrations(app.db);
    if ((await bootstrapAuth({ ...app, adminUsername: config.adminUsername, adminPassword: config.adminPassword })) === 'created-admin') {
      app.log.info({ username: config.adminUsername }, 'created the first admin from TRAINYARD_ADMIN_PASSWORD');
    }
    app.tracking.experiments.ensureDefault();
  } catch (error) {
    app.close();
    throw error;
  }

  const http = createServer(app);
  const sockets = new WebSocketServer({ noServer: true });
  const server = serve({ fetch: http.fetch, hostname: config.host, port: config.port, websocket: { server: sockets } }) as Server;
  let address: AddressInfo;
  try {
    address = await listen(server, config);
  } catch (error) {
    app.close();
    throw error;
  }
  const sweeper = setInterval(() => app.sessions.sweep(), SESSION_SWEEP_MS).unref();
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  app.log.info({ url, version: VERSION, dataDir: config.dataDir }, 'trainyard is listening');

  return {
    app,
    url,
    async close() {
      clearInterval(sweeper);
      for (const socket of sockets.clients) socket.close(1001, 'server shutting down');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const forced = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
      await closed;
      clearTimeout(forced);
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
