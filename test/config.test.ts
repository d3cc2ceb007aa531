import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/lib/errors.ts';
import { runScript } from './helpers/processes.ts';
import { createTestApp } from './helpers/test-app.ts';

const configFile = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'trainyard-config-')), 'trainyard.yaml');
  writeFileSync(path, text);
  return path;
};

describe('loadConfig', () => {
  it('has safe defaults', () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8700, dataDir: join(homedir(), '.local/share/trainyard'), sessionTtlMs: 7 * 86_400_000 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('layers file < environment < flags', () => {
    const config = configFile('port: 9000\nhost: 0.0.0.0\nlogLevel: warn\n');
    expect(loadConfig({ config }, {})).toMatchObject({ port: 9000, host: '0.0.0.0', logLevel: 'warn' });
    expect(loadConfig({ config }, { TRAINYARD_PORT: '9100' })).toMatchObject({ port: 9100, host: '0.0.0.0' });
    expect(loadConfig({ config, port: 9200 }, { TRAINYARD_PORT: '9100' })).toMatchObject({ port: 9200 });
    expect(loadConfig({}, { TRAINYARD_CONFIG: config, TRAINYARD_SESSION_TTL: '12h' })).toMatchObject({ port: 9000, sessionTtlMs: 43_200_000 });
  });

  it.each([
    [{ port: 'eighty' }, {}, /invalid setting port/],
    [{}, { TRAINYARD_PORT: '70000' }, /port \(TRAINYARD_PORT\)/],
    [{}, { TRAINYARD_SESSION_TTL: 'forever' }, /sessionTtlMs \(TRAINYARD_SESSION_TTL\).*not a duration/],
    [{}, { TRAINYARD_LOG_LEVEL: 'loud' }, /logLevel/],
    [{}, { TRAINYARD_PUBLIC_URL: 'not a url' }, /publicUrl/],
    [{ config: '/nonexistent/trainyard.yaml' }, {}, /cannot read config file/],
    [{ config: configFile('port: [1, 2') }, {}, /not valid YAML or JSON/],
    [{ config: configFile('- a list') }, {}, /must hold a mapping/],
    [{ config: configFile('colour: red') }, {}, /unrecognized key/i],
  ])('rejects %j %j with one clear line', (flags, env, message) => {
    expect(() => loadConfig(flags, env)).toThrow(ConfigError);
    expect(() => loadConfig(flags, env)).toThrow(message);
  });
});

describe('the job settings', () => {
  it('default to a 512 MB snapshot limit and the Debian Python image', () => {
    expect(loadConfig({}, {})).toMatchObject({ snapshotMaxBytes: 512 * 2 ** 20, defaultJobImage: 'trainyard/python:bookworm' });
  });

  it.each([
    [{}, { TRAINYARD_SNAPSHOT_MAX_BYTES: '2GB' }, { snapshotMaxBytes: 2 * 2 ** 30 }],
    [{ snapshotMaxBytes: 1_000_000 }, {}, { snapshotMaxBytes: 1_000_000 }],
    [{ config: configFile('snapshotMaxBytes: 64MB\ndefaultJobImage: registry.local/team/train:1\n') }, {}, { snapshotMaxBytes: 64 * 2 ** 20, defaultJobImage: 'registry.local/team/train:1' }],
    [{}, { TRAINYARD_DEFAULT_JOB_IMAGE: 'python:3.12' }, { defaultJobImage: 'python:3.12' }],
  ])('reads %j %j', (flags, env, expected) => {
    expect(loadConfig(flags, env)).toMatchObject(expected);
  });

  it.each([
    [{}, { TRAINYARD_SNAPSHOT_MAX_BYTES: 'lots' }, /^invalid setting snapshotMaxBytes \(TRAINYARD_SNAPSHOT_MAX_BYTES\): "lots" is not a size like 512MB/],
    [{ snapshotMaxBytes: -1 }, {}, /snapshotMaxBytes \(TRAINYARD_SNAPSHOT_MAX_BYTES\): "-1" is not a size/],
    [{}, { TRAINYARD_DEFAULT_JOB_IMAGE: 'python 3' }, /defaultJobImage \(TRAINYARD_DEFAULT_JOB_IMAGE\): an image reference/],
  ])('rejects %j %j with one clear line', (flags, env, message) => {
    expect(() => loadConfig(flags, env)).toThrow(message);
  });
});

describe('pulling images', () => {
  it.each([
    [{}, {}, true],
    [{}, { TRAINYARD_PULL_IMAGES: 'false' }, false],
    [{ pullImages: true }, { TRAINYARD_PULL_IMAGES: 'false' }, true],
  ])('reads %j %j', (flags, env, expected) => {
    expect(loadConfig(flags, env).pullImages).toBe(expected);
  });

  it('rejects anything but true or false with one clear line', () => {
    expect(() => loadConfig({}, { TRAINYARD_PULL_IMAGES: 'yes' })).toThrow(/^invalid setting pullImages \(TRAINYARD_PULL_IMAGES\): /);
  });
});

describe('the GPU quotas', () => {
  it('are off unless set', () => {
    const config = loadConfig({}, {});
    expect(config.gpuQuotaPerUser).toBeUndefined();
    expect(config.gpuQuotaPerProject).toBeUndefined();
  });

  it.each([
    [{}, { TRAINYARD_GPU_QUOTA_PER_USER: '2' }, { gpuQuotaPerUser: 2 }],
    [{ gpuQuotaPerProject: 1.5 }, {}, { gpuQuotaPerProject: 1.5 }],
    [{ config: configFile('gpuQuotaPerUser: 4\ngpuQuotaPerProject: 6\n') }, { TRAINYARD_GPU_QUOTA_PER_PROJECT: '8' }, { gpuQuotaPerUser: 4, gpuQuotaPerProject: 8 }],
  ])('reads %j %j', (flags, env, expected) => {
    expect(loadConfig(flags, env)).toMatchObject(expected);
  });

  it.each([
    [{}, { TRAINYARD_GPU_QUOTA_PER_USER: '0' }, /^invalid setting gpuQuotaPerUser \(TRAINYARD_GPU_QUOTA_PER_USER\): a number of GPUs above 0$/],
    [{ gpuQuotaPerProject: -2 }, {}, /^invalid setting gpuQuotaPerProject \(TRAINYARD_GPU_QUOTA_PER_PROJECT\): a number of GPUs above 0$/],
    [{}, { TRAINYARD_GPU_QUOTA_PER_PROJECT: 'half' }, /gpuQuotaPerProject \(TRAINYARD_GPU_QUOTA_PER_PROJECT\): a number of GPUs like 2 or 1.5$/],
  ])('rejects %j %j with one clear line', (flags, env, message) => {
    expect(() => loadConfig(flags, env)).toThrow(message);
  });
});

describe('the gpus setting', () => {
  const H100 = { model: 'H100', memoryGb: 80, powerLimitWatts: 700 };

  it.each([
    [{}, {}, { source: 'auto' }],
    [{}, { TRAINYARD_GPUS: 'none' }, { source: 'none' }],
    [{ gpus: 'none' }, { TRAINYARD_GPUS: 'fake:1xH100' }, { source: 'none' }],
    [{}, { TRAINYARD_GPUS: 'fake:4xH100-80GB' }, { source: 'simulated', devices: [H100, H100, H100, H100] }],
    [{ gpus: 'fake:2xh100' }, {}, { source: 'simulated', devices: [H100, H100] }],
    [{ gpus: 'fake:2xA100-40GB, 1xL4-24GB' }, {}, { source: 'simulated', devices: [{ model: 'A100', memoryGb: 40, powerLimitWatts: 400 }, { model: 'A100', memoryGb: 40, powerLimitWatts: 400 }, { model: 'L4', memoryGb: 24, powerLimitWatts: 72 }] }],
    [{ gpus: 'fake:1xMI300X-192GB' }, {}, { source: 'simulated', devices: [{ model: 'MI300X', memoryGb: 192, powerLimitWatts: 300 }] }],
  ])('reads %j %j', (flags, env, gpus) => {
    expect(loadConfig(flags, env).gpus).toEqual(gpus);
  });

  it('reads gpus from the config file', () => {
    expect(loadConfig({ config: configFile('gpus: fake:1xT4\n') }, {}).gpus).toEqual({ source: 'simulated', devices: [{ model: 'T4', memoryGb: 16, powerLimitWatts: 70 }] });
  });

  it.each([
    ['fake:0xH100', /^invalid setting gpus \(TRAINYARD_GPUS\): "0xH100" asks for no GPUs$/],
    ['fake:4xFOO', /unknown GPU model "FOO": use one of H200, H100, .* or give its memory like FOO-24GB$/],
    ['fake:1xH100-0GB', /"1xH100-0GB" has no memory/],
    ['fake:65xH100', /65 simulated GPUs are more than 64/],
    ['fake:', /"" is not <count>x<model> like 4xH100 or 2xA100-40GB/],
    ['fake:4x', /"4x" is not <count>x<model>/],
    ['fake:4xH100;rm -rf /', /is not <count>x<model>/],
    ['banana', /"banana" is not auto, none or fake:<count>x<model>\[-<N>GB\]\[,...\]/],
    ['nvidia', /is not auto, none or fake/],
  ])('rejects TRAINYARD_GPUS=%s with one clear line', (spec, message) => {
    expect(() => loadConfig({}, { TRAINYARD_GPUS: spec })).toThrow(ConfigError);
    expect(() => loadConfig({}, { TRAINYARD_GPUS: spec })).toThrow(message);
  });

  it('stops the server with exit code 2 and that line', async () => {
    const result = await runScript('src/main.ts', [], {
      env: { TRAINYARD_DATA: mkdtempSync(join(tmpdir(), 'trainyard-config-')), TRAINYARD_CONFIG: '', TRAINYARD_GPUS: 'fake:4xFOO' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^trainyard: invalid setting gpus \(TRAINYARD_GPUS\): unknown GPU model "FOO"/)]);
  });
});

describe('the monitoring settings', () => {
  it('let no address scrape /metrics without a credential, sample running jobs every 10 s and the appliance every 5 s, unless set', () => {
    expect(loadConfig({}, {})).toMatchObject({ metricsAllowFrom: [], jobSystemMetricsIntervalMs: 10_000, sampleIntervalMs: 5_000 });
  });

  it.each([
    [{}, { TRAINYARD_METRICS_ALLOW_FROM: '127.0.0.1/32,10.0.0.0/8' }, [{ address: '127.0.0.1', prefix: 32, family: 'ipv4' }, { address: '10.0.0.0', prefix: 8, family: 'ipv4' }]],
    [{}, { TRAINYARD_METRICS_ALLOW_FROM: ' 192.168.1.7 , fd00::/8 ' }, [{ address: '192.168.1.7', prefix: 32, family: 'ipv4' }, { address: 'fd00::', prefix: 8, family: 'ipv6' }]],
    [{ config: configFile('metricsAllowFrom:\n  - 172.16.0.0/12\n  - ::1\n') }, {}, [{ address: '172.16.0.0', prefix: 12, family: 'ipv4' }, { address: '::1', prefix: 128, family: 'ipv6' }]],
    [{ metricsAllowFrom: '' }, {}, []],
  ])('reads metricsAllowFrom from %j %j', (flags, env, ranges) => {
    expect(loadConfig(flags, env).metricsAllowFrom).toEqual(ranges);
  });

  it.each([
    [{}, { TRAINYARD_JOB_SYSTEM_METRICS_INTERVAL: '30s' }, 30_000],
    [{ jobSystemMetricsIntervalMs: 2_000 }, {}, 2_000],
  ])('reads jobSystemMetricsIntervalMs from %j %j', (flags, env, intervalMs) => {
    expect(loadConfig(flags, env).jobSystemMetricsIntervalMs).toBe(intervalMs);
  });

  it.each([
    [{}, { TRAINYARD_SAMPLE_INTERVAL: '15s' }, 15_000],
    [{ sampleIntervalMs: 1_000 }, {}, 1_000],
  ])('reads sampleIntervalMs from %j %j', (flags, env, intervalMs) => {
    expect(loadConfig(flags, env).sampleIntervalMs).toBe(intervalMs);
  });

  it.each([
    [{ sampleIntervalMs: 200 }, /^invalid setting sampleIntervalMs \(TRAINYARD_SAMPLE_INTERVAL\): sample at most once a second, like 5s$/],
    [{ sampleIntervalMs: 'now and then' }, /^invalid setting sampleIntervalMs \(TRAINYARD_SAMPLE_INTERVAL\): "now and then" is not a duration/],
  ])('rejects the sample interval %j with one clear line', (flags, message) => {
    expect(() => loadConfig(flags, {})).toThrow(ConfigError);
    expect(() => loadConfig(flags, {})).toThrow(message);
  });

  it('keep raw rounds 24 hours, minute averages 30 days and hour averages a year, unless set', () => {
    expect(loadConfig({}, {})).toMatchObject({ monitoringRetentionRawMs: 86_400_000, monitoringRetentionMinuteMs: 30 * 86_400_000, monitoringRetentionHourMs: 365 * 86_400_000 });
  });

  it.each([
    [{}, { TRAINYARD_MONITORING_RETENTION_RAW: '6h', TRAINYARD_MONITORING_RETENTION_MINUTE: '7d', TRAINYARD_MONITORING_RETENTION_HOUR: '2w' }, [6 * 3_600_000, 7 * 86_400_000, 14 * 86_400_000]],
    [{ config: configFile('monitoringRetentionRawMs: 2d\nmonitoringRetentionHourMs: 730d\n') }, {}, [2 * 86_400_000, 30 * 86_400_000, 730 * 86_400_000]],
    [{ monitoringRetentionMinuteMs: 86_400_000 }, { TRAINYARD_MONITORING_RETENTION_MINUTE: '90d' }, [86_400_000, 86_400_000, 365 * 86_400_000]],
    [{}, { TRAINYARD_MONITORING_RETENTION_MINUTE: '365d' }, [86_400_000, 365 * 86_400_000, 365 * 86_400_000]],
  ])('reads the retention of the raw, minute and hour tiers from %j %j', (flags, env, [raw, minute, hour]) => {
    expect(loadConfig(flags, env)).toMatchObject({ monitoringRetentionRawMs: raw, monitoringRetentionMinuteMs: minute, monitoringRetentionHourMs: hour });
  });

  it("give the app's sampler its tiers: a chart reaching past the raw rounds' retention reads minute averages", async () => {
    const hourOfRounds = { subject: { kind: 'host' as const }, maxPoints: 10_000 };
    for (const [raw, resolutionMs] of [['24h', 5_000], ['1h', 60_000]] as const) {
      const { app, clock } = await createTestApp({ monitoringRetentionRawMs: raw });
      expect(app.monitoring.series({ ...hourOfRounds, from: clock.now - 2 * 3_600_000, to: clock.now }).resolutionMs, raw).toBe(resolutionMs);
    }
  });

  it.each([
    [{ TRAINYARD_MONITORING_RETENTION_RAW: 'a day' }, /^invalid setting monitoringRetentionRawMs \(TRAINYARD_MONITORING_RETENTION_RAW\): "a day" is not a duration like 30m, 12h or 7d$/],
    [{ TRAINYARD_MONITORING_RETENTION_HOUR: '0d' }, /^invalid setting monitoringRetentionHourMs \(TRAINYARD_MONITORING_RETENTION_HOUR\): "0d" is not a duration/],
    [
      { TRAINYARD_MONITORING_RETENTION_RAW: '48h', TRAINYARD_MONITORING_RETENTION_MINUTE: '1d' },
      /^invalid setting monitoringRetentionMinuteMs \(TRAINYARD_MONITORING_RETENTION_MINUTE\): the minute averages must be kept at least as long as the raw rounds \(monitoringRetentionRawMs\)$/,
    ],
    [
      { TRAINYARD_MONITORING_RETENTION_HOUR: '7d' },
      /^invalid setting monitoringRetentionHourMs \(TRAINYARD_MONITORING_RETENTION_HOUR\): the hour averages must be kept at least as long as the minute averages \(monitoringRetentionMinuteMs\)$/,
    ],
  ])('rejects the retention %j with one clear line', (env, message) => {
    expect(() => loadConfig({}, env)).toThrow(ConfigError);
    expect(() => loadConfig({}, env)).toThrow(message);
  });

  it.each([
    [{ TRAINYARD_METRICS_ALLOW_FROM: '10.0.0.0/8,prometheus.local' }, /^invalid setting metricsAllowFrom \(TRAINYARD_METRICS_ALLOW_FROM\): "prometheus.local" is not an address range like 10.0.0.0\/8 or 127.0.0.1$/],
    [{ TRAINYARD_METRICS_ALLOW_FROM: '10.0.0.0/33' }, /metricsAllowFrom \(TRAINYARD_METRICS_ALLOW_FROM\): "10.0.0.0\/33" has a prefix length that is not 0 to 32$/],
    [{ TRAINYARD_METRICS_ALLOW_FROM: 'fd00::/129' }, /"fd00::\/129" has a prefix length that is not 0 to 128$/],
    [{ TRAINYARD_METRICS_ALLOW_FROM: '10.0.0.0/' }, /"10.0.0.0\/" has a prefix length/],
    [{ TRAINYARD_METRICS_ALLOW_FROM: '10.0.0.0/8/8' }, /"10.0.0.0\/8\/8" is not an address range/],
    [{ TRAINYARD_JOB_SYSTEM_METRICS_INTERVAL: 'often' }, /^invalid setting jobSystemMetricsIntervalMs \(TRAINYARD_JOB_SYSTEM_METRICS_INTERVAL\): "often" is not a duration/],
  ])('rejects %j with one clear line', (env, message) => {
    expect(() => loadConfig({}, env)).toThrow(ConfigError);
    expect(() => loadConfig({}, env)).toThrow(message);
  });
});

describe('the alert settings', () => {
  it('default to 30 minutes idle under 5%, 85 °C, 90% disk, 5 minutes degraded, 3 restarts in 10 minutes, an hour queued, no webhook', () => {
    expect(loadConfig({}, {})).toMatchObject({
      alertGpuIdlePercent: 5,
      alertGpuIdleAfterMs: 30 * 60_000,
      alertGpuTemperature: 85,
      alertDiskPercent: 90,
      alertDeploymentDegradedAfterMs: 5 * 60_000,
      alertReplicaRestarts: 3,
      alertReplicaRestartWindowMs: 10 * 60_000,
      alertJobQueuedAfterMs: 3_600_000,
    });
    expect(loadConfig({}, {}).alertWebhookUrl).toBeUndefined();
  });

  it.each([
    [{}, { TRAINYARD_ALERT_WEBHOOK_URL: 'https://chat.example.com/hooks/abc' }, { alertWebhookUrl: 'https://chat.example.com/hooks/abc' }],
    [{}, { TRAINYARD_ALERT_GPU_IDLE_AFTER: '45m', TRAINYARD_ALERT_GPU_IDLE_PERCENT: '10' }, { alertGpuIdleAfterMs: 45 * 60_000, alertGpuIdlePercent: 10 }],
    [{}, { TRAINYARD_ALERT_GPU_TEMPERATURE: '80.5', TRAINYARD_ALERT_DISK_PERCENT: '95' }, { alertGpuTemperature: 80.5, alertDiskPercent: 95 }],
    [{}, { TRAINYARD_ALERT_REPLICA_RESTARTS: '5', TRAINYARD_ALERT_REPLICA_RESTART_WINDOW: '30m' }, { alertReplicaRestarts: 5, alertReplicaRestartWindowMs: 30 * 60_000 }],
    [{ config: configFile('alertJobQueuedAfterMs: 2h\nalertDeploymentDegradedAfterMs: 90s\n') }, {}, { alertJobQueuedAfterMs: 7_200_000, alertDeploymentDegradedAfterMs: 90_000 }],
  ])('reads %j %j', (flags, env, expected) => {
    expect(loadConfig(flags, env)).toMatchObject(expected);
  });

  it.each([
    [{ TRAINYARD_ALERT_WEBHOOK_URL: 'ftp://chat.example.com/hook' }, /^invalid setting alertWebhookUrl \(TRAINYARD_ALERT_WEBHOOK_URL\): an http:\/\/ or https:\/\/ URL/],
    [{ TRAINYARD_ALERT_WEBHOOK_URL: 'chat.example.com' }, /alertWebhookUrl \(TRAINYARD_ALERT_WEBHOOK_URL\): an http:\/\/ or https:\/\/ URL/],
    [{ TRAINYARD_ALERT_DISK_PERCENT: '120' }, /^invalid setting alertDiskPercent \(TRAINYARD_ALERT_DISK_PERCENT\): a percentage up to 100$/],
    [{ TRAINYARD_ALERT_GPU_IDLE_PERCENT: '0' }, /alertGpuIdlePercent \(TRAINYARD_ALERT_GPU_IDLE_PERCENT\): a percentage above 0$/],
    [{ TRAINYARD_ALERT_GPU_TEMPERATURE: 'hot' }, /alertGpuTemperature \(TRAINYARD_ALERT_GPU_TEMPERATURE\): a temperature in °C like 85$/],
    [{ TRAINYARD_ALERT_REPLICA_RESTARTS: '0' }, /alertReplicaRestarts \(TRAINYARD_ALERT_REPLICA_RESTARTS\)/],
    [{ TRAINYARD_ALERT_JOB_QUEUED_AFTER: 'an hour' }, /alertJobQueuedAfterMs \(TRAINYARD_ALERT_JOB_QUEUED_AFTER\): "an hour" is not a duration/],
  ])('rejects %j with one clear line', (env, message) => {
    expect(() => loadConfig({}, env)).toThrow(message);
  });
});
