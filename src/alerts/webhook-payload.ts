import type { AlertRecord } from './alert-queries.ts';

export type AlertChange = 'fired' | 'resolved';

/** What a webhook receives: Slack's and Mattermost's `text`, and the alert itself for other receivers. */
export interface WebhookPayload {
  text: string;
  alert: {
    id: number;
    state: AlertChange;
    rule: AlertRecord['rule'];
    subject: string;
    severity: AlertRecord['severity'];
    message: string;
    details: Record<string, unknown>;
    /** ms since the epoch. */
    firedAt: number;
    resolvedAt: number | null;
    /** The alerts page, when `publicUrl` is set. */
    url: string | null;
  };
}

const HEADLINES: Record<AlertChange, string> = { fired: ':rotating_light: Alert', resolved: ':white_check_mark: Resolved' };

export function webhookPayload(change: AlertChange, alert: AlertRecord, publicUrl: string | undefined): WebhookPayload {
  const url = publicUrl ? new URL('/alerts', publicUrl).href : null;
  const text = `${HEADLINES[change]} (${alert.severity}, ${alert.rule}): ${alert.message}${url ? `\n${url}` : ''}`;
  const { id, rule, subject, severity, message, details, firedAt, resolvedAt } = alert;
  return { text, alert: { id, state: change, rule, subject, severity, message, details, firedAt, resolvedAt, url } };
}
