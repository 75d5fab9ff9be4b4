// Progress of a comparison: one event per trained epoch, with the elapsed time and an estimate of
// what remains; the default printer rewrites one live bar on a terminal and prints a line per
// contender and seed otherwise.

export interface ProgressEvent {
  contender: string;
  seed: number;
  epoch: number;
  epochs: number;
  /** Epochs trained so far, over all contenders and seeds, and in all. */
  done: number;
  total: number;
  elapsedSeconds: number;
  /** Elapsed / done × (total − done). */
  remainingSeconds: number;
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) {
    return '?';
  }
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` :
                                        `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function progressLine(e: ProgressEvent): string {
  return `${e.contender}, seed ${e.seed}: epoch ${e.epoch}/${e.epochs}; ${e.done}/${e.total} epochs in all, ` +
         `${formatSeconds(e.elapsedSeconds)} elapsed, about ${formatSeconds(e.remainingSeconds)} left`;
}

export function progressBar(e: ProgressEvent, width = 24): string {
  const filled = Math.round(width * e.done / e.total);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progressLine(e)}`;
}

/** Writes progress to a stream: a rewritten bar on a TTY, a line per finished contender and seed otherwise. */
export function printProgress(stream: NodeJS.WriteStream = process.stderr): (e: ProgressEvent) => void {
  return (e) => {
    if (stream.isTTY) {
      stream.write(`\r\x1b[K${progressBar(e, 20).slice(0, Math.max(20, (stream.columns || 120) - 1))}` +
                   (e.done === e.total ? '\n' : ''));
    } else if (e.epoch === e.epochs) {
      stream.write(`compare: ${progressLine(e)}\n`);
    }
  };
}
