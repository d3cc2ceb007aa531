import type { AlertDraft, AlertRule, RoundFindings } from './alert-rule.ts';
import type { AlertRecord, RuleName } from './alert-queries.ts';

/** Where the tracker's decisions go: recorded, published and sent. */
export interface AlertTransitions {
  /** The open alert now recorded for `subject`. */
  fire(rule: RuleName, subject: string, draft: AlertDraft, at: number): AlertRecord;
  resolve(alert: AlertRecord, at: number): void;
}

interface SubjectState {
  /** When the condition was first seen holding, in this stretch. */
  since: number;
  open: AlertRecord | undefined;
}

export interface AlertTracker {
  /** Takes an alert left open before a restart as firing, so that it is resolved once, never fired again. */
  adopt(alert: AlertRecord): void;
  /** One round of one rule: costs the round's observations plus the subjects the rule tracks (pending or open). */
  apply(rule: AlertRule, findings: RoundFindings, at: number): void;
}

/** Per rule and subject: since when the condition holds, and the alert it fired. Only open and pending subjects are kept. */
export function createAlertTracker(transitions: AlertTransitions): AlertTracker {
  const rules = new Map<RuleName, Map<string, SubjectState>>();
  const stateOf = (rule: RuleName) => {
    let subjects = rules.get(rule);
    if (!subjects) rules.set(rule, (subjects = new Map()));
    return subjects;
  };

  return {
    adopt(alert) {
      stateOf(alert.rule).set(alert.subject, { since: alert.firedAt, open: alert });
    },

    apply(rule, findings, at) {
      const subjects = stateOf(rule.name);
      const seen = new Set<string>();
      for (const observation of findings.observations) {
        seen.add(observation.subject);
        const state = subjects.get(observation.subject);
        if (!observation.over) {
          if (state && !state.open) subjects.delete(observation.subject);
          continue;
        }
        const current = state ?? { since: at, open: undefined };
        if (!state) subjects.set(observation.subject, current);
        if (!current.open && at - current.since >= rule.holdMs) {
          current.open = transitions.fire(rule.name, observation.subject, observation.draft(current.since), at);
        }
      }
      for (const [subject, state] of subjects) {
        if (seen.has(subject) || !findings.judges(subject)) continue;
        if (state.open) transitions.resolve(state.open, at);
        subjects.delete(subject);
      }
    },
  };
}
