import { upgradeWebSocket } from '@hono/node-server';
import { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import type { App } from '../app.ts';
import type { Principal } from '../auth/credentials.ts';
import type { BusEvents, BusTopic } from '../lib/bus.ts';
import { badRequest } from '../lib/errors.ts';
import type { Html } from '../../web/views/html.ts';
import { auditLivePartial } from '../../web/views/audit-page.ts';
import { principalOf, type AppEnv } from './context.ts';
import { SESSION_COOKIE } from './middleware/authenticate.ts';

/**
 * A page names the feeds it shows (`hx-ws:connect="/live?feeds=audit"`); each bus event of a feed is pushed
 * to it as HTML holding `<hx-partial>` elements, which htmx swaps into their targets.
 */
interface Feed<T extends BusTopic = BusTopic> {
  topic: T;
  visibleTo(principal: Principal, payload: BusEvents[T]): boolean;
  render(payload: BusEvents[T]): Html;
}

const feed = <T extends BusTopic>(definition: Feed<T>) => definition as unknown as Feed;

const FEEDS: Record<string, Feed> = {
  audit: feed({ topic: 'audit.recorded', visibleTo: (principal) => principal.user.isAdmin, render: auditLivePartial }),
};

export function liveRoutes(app: App) {
  return new Hono<AppEnv>().get(
    '/live',
    async (c, next) => {
      const names = (c.req.query('feeds') ?? '').split(',').filter(Boolean);
      const unknown = names.filter((name) => !FEEDS[name]);
      if (unknown.length) throw badRequest(`unknown live feed ${unknown.join(', ')}; known: ${Object.keys(FEEDS).join(', ')}`);
      if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') throw badRequest('this endpoint speaks WebSocket');
      await next();
    },
    upgradeWebSocket((c) => {
      const principal = principalOf(c);
      const feeds = (c.req.query('feeds') ?? '').split(',').filter(Boolean).map((name) => FEEDS[name]!);
      const unsubscribers: Array<() => void> = [];
      // A socket outlives the request that opened it: before each push, check that the credential still holds
      // (the user may have signed out, been disabled or had the token revoked since).
      const request = { authorization: c.req.header('Authorization'), sessionCookie: getCookie(c, SESSION_COOKIE) };
      const client = { ip: c.get('clientIp'), userAgent: c.req.header('User-Agent') ?? '' };
      const stillSignedIn = () => app.credentials.identify(request, client).then(Boolean, () => false);
      return {
        onOpen(_event, socket) {
          for (const { topic, visibleTo, render } of feeds) {
            unsubscribers.push(
              app.bus.subscribe(topic, async (payload) => {
                if (!visibleTo(principal, payload)) return;
                if (await stillSignedIn()) socket.send(String(await render(payload)));
                else socket.close(1008, 'signed out');
              }),
            );
          }
        },
        onClose() {
          for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
        },
      };
    }),
  );
}
