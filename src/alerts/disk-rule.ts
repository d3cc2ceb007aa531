import type { AlertConfig, AlertRule } from './alert-rule.ts';

/** A disk freed this far below the limit (a share of the disk) is no longer full: usage hovering at the limit fires once. */
const DISK_MARGIN = 0.02;
const SUBJECT = 'data-disk';
const GIB = 2 ** 30;

/** The file system of the data directory at or above `alertDiskPercent` full; machine-wide. */
export function fullDiskRule(config: AlertConfig): AlertRule {
  const limit = config.alertDiskPercent / 100;
  return {
    name: 'disk-full',
    holdMs: 0,
    observe({ host }) {
      if (!host || host.diskTotal <= 0) return { observations: [], judges: () => false };
      const { diskUsed, diskTotal } = host;
      const used = diskUsed / diskTotal;
      if (used < limit - DISK_MARGIN) return { observations: [], judges: () => true };
      const observation = {
        subject: SUBJECT,
        over: used >= limit,
        draft: () => ({
          severity: 'critical' as const,
          projectId: null,
          message: `the data disk is ${(used * 100).toFixed(1)}% full (${(diskUsed / GIB).toFixed(1)} of ${(diskTotal / GIB).toFixed(1)} GiB), at or above the limit of ${config.alertDiskPercent}%`,
          details: { diskUsed, diskTotal, limitPercent: config.alertDiskPercent },
        }),
      };
      return { observations: [observation], judges: () => true };
    },
  };
}
