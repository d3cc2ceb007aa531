export * from './auth.ts';
export * from './audit.ts';
export * from './tracking.ts';
export * from './registry.ts';
export * from './scheduler.ts';
export * from './serving.ts';
export * from './alerts.ts';
export * from './monitoring.ts';
