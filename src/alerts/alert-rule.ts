import type { Config } from '../config.ts';
import type { MonitorSample } from '../monitoring/sample.ts';
import type { Deployments } from '../serving/deployments.ts';
import type { Jobs } from '../scheduler/jobs.ts';
import type { AlertSeverity, RuleName } from './alert-queries.ts';

export type AlertConfig = Pick<
  Config,
  | 'publicUrl'
  | 'alertWebhookUrl'
  | 'alertGpuIdlePercent'
  | 'alertGpuIdleAfterMs'
  | 'alertGpuTemperature'
  | 'alertDiskPercent'
  | 'alertDeploymentDegradedAfterMs'
  | 'alertReplicaRestarts'
  | 'alertReplicaRestartWindowMs'
  | 'alertJobQueuedAfterMs'
>;

/** What the rules read besides the sample, through the domains that own it. */
export interface RuleSources {
  jobs: Pick<Jobs, 'inStates' | 'byId'>;
  deployments: Pick<Deployments, 'live' | 'byId' | 'events'>;
}

/** What is recorded when a rule's condition fires. */
export interface AlertDraft {
  severity: AlertSeverity;
  message: string;
  /** The project of the job or deployment it is about; null for the whole machine. */
  projectId: number | null;
  /** Names the job (`jobId`), deployment (`deployment`, its name) or GPU (`gpu`, its uuid) it is about, with the readings. */
  details: Record<string, unknown>;
}

/** A subject a rule's condition holds for in this round. */
export interface Observation {
  subject: string;
  /**
   * Past the threshold. False: back under it but within the margin that keeps an open alert open, so that a
   * reading hovering at the threshold does not fire and resolve by turns; a pending one starts over.
   */
  over: boolean;
  /** The alert to record, asked for only when it fires; `since` is when the condition was first seen holding. */
  draft(since: number): AlertDraft;
}

export interface RoundFindings {
  observations: Observation[];
  /**
   * Whether this round could tell about `subject`. A subject it could tell about but did not observe no longer
   * holds; one it could not (its reading missing this round) is left as it stands.
   */
  judges(subject: string): boolean;
}

export interface AlertRule {
  name: RuleName;
  /** How long the condition must hold before the alert fires. */
  holdMs: number;
  observe(sample: MonitorSample): RoundFindings;
}

export const judgesAll = () => true;
