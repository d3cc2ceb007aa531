import { pino, type Logger, type LevelWithSilent } from 'pino';

export type Log = Logger;

/** Structured JSON lines on stdout (or the given stream); secrets are redacted by path wherever they appear. */
export function createLog(level: LevelWithSilent, destination?: NodeJS.WritableStream): Log {
  const options = {
    level,
    base: { service: 'trainyard' },
    redact: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization', 'cookie', '*.cookie'],
  };
  return destination ? pino(options, destination) : pino(options);
}
