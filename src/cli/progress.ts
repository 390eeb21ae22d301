/**
 * A progress bar with an elapsed/remaining-time estimate, written to a stream (stderr). When the
 * stream is not a TTY it prints one line per update instead of redrawing.
 */

// TYPES

export interface ProgressBar {
  readonly update: (done: number, total: number, label?: string) => void;
  readonly done: () => void;
}

// MAIN

function fmt(s: number): string {
  if (!Number.isFinite(s)) return '--';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.floor(s - 60 * m)).padStart(2, '0')}s`;
}

/** Create a progress bar named `title`. */
export function progressBar(title: string, stream: NodeJS.WriteStream): ProgressBar {
  const t0 = Date.now();
  let last = '';
  const tty = !!stream.isTTY;
  return {
    update: (done, total, label = '') => {
      const el = (Date.now() - t0) / 1000;
      const eta = done > 0 ? (el / done) * (total - done) : Infinity;
      const w = 24, fill = Math.floor((w * done) / Math.max(1, total));
      const line = `${title} [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${done}/${total} ${label} elapsed ${fmt(el)} eta ${fmt(eta)}`;
      if (tty) stream.write(`\r${line.padEnd(last.length)}`);
      else stream.write(`${line}\n`);
      last = line;
    },
    done: () => {
      if (tty && last) stream.write('\n');
    },
  };
}
