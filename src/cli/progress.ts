/**
 * Progress reporting on stderr: a cli-progress bar when stderr is a terminal, otherwise a single
 * log line when the work starts and one when it ends (no carriage-return noise in log files).
 */
import cliProgress from 'cli-progress';
import { formatBytes, log, type CliIO } from './io.js';

/** A byte-progress reporter. */
export interface Progress {
  /** Reports `done` of `total` bytes. */
  update(done: number, total: number): void;
  /** Ends the report, with an optional closing log line. */
  stop(message?: string): void;
}

/**
 * Creates a progress reporter for `label` (e.g. `loading model.gguf`).
 * @param io the command's streams; the bar is drawn only when `io.stderr.isTTY`.
 */
export function createProgress(io: CliIO, label: string): Progress {
  if (!io.stderr.isTTY) {
    let announced = false;
    return {
      update(_done, total) {
        if (announced) return;
        announced = true;
        log(io, `${label} (${formatBytes(total)})`);
      },
      stop(message) {
        if (!announced) log(io, label);
        if (message) log(io, message);
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: io.stderr,
      format: `${label} [{bar}] {percentage}% | {doneText} / {totalText}`,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      const payload = { doneText: formatBytes(done), totalText: formatBytes(total) };
      if (!started) {
        bar.start(Math.max(total, 1), done, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(total, 1));
        bar.update(done, payload);
      }
    },
    stop(message) {
      if (started) bar.stop();
      if (message) log(io, message);
    },
  };
}
