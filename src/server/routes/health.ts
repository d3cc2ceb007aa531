import { Hono } from 'hono';
import { VERSION } from '../../version.ts';
import type { AppEnv } from '../context.ts';

/** Public and cheap: answers as soon as the server listens, touching nothing. */
export function healthRoutes() {
  return new Hono<AppEnv>().get('/health', (c) => c.json({ status: 'ok', version: VERSION }));
}
