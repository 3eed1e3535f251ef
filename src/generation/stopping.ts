/**
 * Stop-string detection over streamed text. Text before a stop string is emitted, the stop
 * string and anything after it are not, and a tail that could still grow into a stop string is
 * held back until it either completes one or can no longer match (the behaviour of llama.cpp's
 * server, tools/server `find_stopping_strings` with partial matches).
 */

/** Result of {@link StopStringMatcher.push}. */
export interface StopPush {
  /** Text that is now safe to emit. */
  emit: string;
  /** The stop string that was found, or undefined. Once set, the stream is over. */
  stop?: string;
}

/** Finds stop strings across chunk (token) boundaries and holds back possible partial matches. */
export class StopStringMatcher {
  /** Non-empty stop strings. */
  readonly stops: readonly string[];
  private pending = '';
  private done = false;

  /** @param stops stop strings; empty strings are ignored. */
  constructor(stops: readonly string[] = []) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  /**
   * Appends a chunk of text. Returns the text that can be emitted now and, when a stop string
   * completed, which one (the earliest occurrence wins; on a tie at the same position, the
   * longer stop string). After a stop, further pushes emit nothing.
   */
  push(text: string): StopPush {
    if (this.done) return { emit: '' };
    if (this.stops.length === 0) return { emit: text };
    this.pending += text;
    let at = -1;
    let which: string | undefined;
    for (const s of this.stops) {
      const i = this.pending.indexOf(s);
      if (i >= 0 && (at < 0 || i < at || (i === at && s.length > which!.length))) {
        at = i;
        which = s;
      }
    }
    if (which !== undefined) {
      const emit = this.pending.slice(0, at);
      this.pending = '';
      this.done = true;
      return { emit, stop: which };
    }
    const hold = this.partialSuffixLength(this.pending);
    const emit = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { emit };
  }

  /** Returns the held-back text (the stream ended without a stop) and clears it. */
  flush(): string {
    const t = this.done ? '' : this.pending;
    this.pending = '';
    return t;
  }

  /** Text currently held back. */
  get held(): string {
    return this.pending;
  }

  /** Length of the longest suffix of `t` that is a proper prefix of some stop string. */
  private partialSuffixLength(t: string): number {
    let best = 0;
    for (const s of this.stops) {
      const max = Math.min(s.length - 1, t.length);
      for (let n = max; n > best; n--) {
        if (t.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}

/** Why generation ended: a stop string, the token budget (or context end), an end-of-generation token, or an abort signal. */
export type FinishReason = 'stop' | 'length' | 'eog' | 'abort';
