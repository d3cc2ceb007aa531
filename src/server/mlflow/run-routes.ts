import { Hono } from 'hono';
import type { App } from '../../app.ts';
import type { AppEnv } from '../context.ts';

export function runRoutes(_app: App) {
  return new Hono<AppEnv>();
}
