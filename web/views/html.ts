import type { HtmlEscapedString } from 'hono/utils/html';

export { html, raw } from 'hono/html';
export { formatTime } from '../../src/lib/format-time.ts';
export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

