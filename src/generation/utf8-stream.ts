/**
 * Incremental UTF-8 decoding of token bytes. A token's piece may end in the middle of a
 * multi-byte character (byte-fallback tokens such as `<0xE2>` in SentencePiece vocabularies, or
 * byte-level BPE merges that split an emoji); the character is emitted only once all of its
 * bytes have arrived. Invalid sequences become U+FFFD as the WHATWG Encoding Standard's UTF-8
 * decoder specifies (the algorithm behind `TextDecoder`, used here in streaming mode).
 */

/** Streaming UTF-8 decoder: bytes in, completed text out. */
export class Utf8Stream {
  private decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  /**
   * Feeds bytes and returns the text of every character they complete ('' when the bytes only
   * start a character). Incomplete trailing bytes are kept for the next call.
   */
  push(bytes: Uint8Array): string {
    return this.decoder.decode(bytes, { stream: true });
  }

  /** Ends the stream: returns U+FFFD for an incomplete trailing sequence ('' when none) and resets. */
  flush(): string {
    return this.decoder.decode();
  }

  /** Drops any buffered partial character. */
  reset(): void {
    this.decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  }
}
