import { formatBytes } from '../lib/byte-size.ts';

export interface Progress {
  advance(bytes: number): void;
  /** Clears the bar; nothing is left on the line. */
  done(): void;
}

const WIDTH = 30;
const REDRAW_MS = 100;

/** A bar on stderr while `total` bytes go by, drawn only for a person at a terminal (never into a pipe or log). */
export function progressBar(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total <= 0) return { advance() {}, done() {} };
  let seen = 0;
  let drawnAt = 0;
  const draw = () => {
    const share = Math.min(1, seen / total);
    const filled = Math.round(share * WIDTH);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.floor(share * 100)).padStart(3)}% ${formatBytes(seen)} / ${formatBytes(total)}`);
  };
  return {
    advance(bytes) {
      seen += bytes;
      const now = Date.now();
      if (now - drawnAt >= REDRAW_MS || seen >= total) {
        drawnAt = now;
        draw();
      }
    },
    done() {
      stream.write('\r\u001b[2K');
    },
  };
}
