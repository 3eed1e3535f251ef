/**
 * Unicode and byte helpers shared by the tokenizers: UTF-8 encode/decode, the GPT-2 byte ↔ unicode
 * mapping used by byte-level BPE, and the `▁` (U+2581) whitespace escape of SentencePiece.
 *
 * Sources: the byte mapping is `bytes_to_unicode()` of OpenAI's GPT-2 `encoder.py` (also
 * llama.cpp `unicode_byte_to_utf8_map`); the whitespace set is the Unicode `White_Space` property,
 * which is exactly the set llama.cpp's `unicode_set_whitespace` lists.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** UTF-8 bytes of a string. Lone surrogates become U+FFFD (EF BF BD), as in WHATWG `TextEncoder`. */
export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decode UTF-8 bytes; invalid sequences become U+FFFD (WHATWG decoder, replacement mode). */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Replace lone UTF-16 surrogates by U+FFFD so that the string equals what llama.cpp would see
 * after Node's UTF-8 conversion (`String.prototype.toWellFormed`, written out for ES2023 targets).
 */
export function toWellFormed(text: string): string {
  // Fast path: no surrogate at all.
  if (!/[\uD800-\uDFFF]/.test(text)) return text;
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** SentencePiece's visible space `▁` (U+2581), which SPM vocabularies use in place of ' '. */
export const SPM_SPACE = '\u2581';

/** `' '` → `▁` (llama.cpp `llama_escape_whitespace`). */
export function escapeWhitespace(text: string): string {
  return text.includes(' ') ? text.replaceAll(' ', SPM_SPACE) : text;
}

/** `▁` → `' '` (llama.cpp `llama_unescape_whitespace`). */
export function unescapeWhitespace(text: string): string {
  return text.includes(SPM_SPACE) ? text.replaceAll(SPM_SPACE, ' ') : text;
}

let byteToCharTable: string[] | undefined;
let charToByteTable: Map<string, number> | undefined;

function buildByteTables(): void {
  // Bytes that are printable Latin-1 map to themselves; the 68 others map to U+0100.. in byte order.
  const table: string[] = new Array<string>(256);
  const isPrintable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCharCode(isPrintable(b) ? b : 256 + n++);
  }
  byteToCharTable = table;
  charToByteTable = new Map(table.map((c, b) => [c, b]));
}

/**
 * GPT-2 byte → unicode character table (256 entries, each a single UTF-16 unit in U+0021..U+0143).
 * Byte-level BPE vocabularies spell every byte with these characters (e.g. ' ' → 'Ġ', '\n' → 'Ċ').
 */
export function byteToUnicode(): readonly string[] {
  if (!byteToCharTable) buildByteTables();
  return byteToCharTable!;
}

/** Inverse of {@link byteToUnicode}: character → byte, or undefined for characters outside the table. */
export function unicodeToByte(ch: string): number | undefined {
  if (!charToByteTable) buildByteTables();
  return charToByteTable!.get(ch);
}

/** Map the UTF-8 bytes of `text` to GPT-2 byte characters (llama.cpp `unicode_byte_encoding_process`). */
export function byteEncode(text: string): string {
  const table = byteToUnicode();
  const bytes = utf8Encode(text);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += table[bytes[i]!];
  return out;
}

/** Two-digit uppercase hex of a byte, as in SentencePiece byte tokens `<0xXX>`. */
export function byteTokenText(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/** Parse `<0xXX>` → byte value, or -1 when the text is not a byte token. */
export function parseByteToken(text: string): number {
  if (text.length !== 6 || !text.startsWith('<0x') || text[5] !== '>') return -1;
  const v = Number.parseInt(text.slice(3, 5), 16);
  return Number.isNaN(v) ? -1 : v;
}

/** Whether a byte is C `isspace` (space, \t, \n, \v, \f, \r), used for lstrip/rstrip of special tokens. */
export function isAsciiSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

/**
 * Splits a string into code points as (start, length) pairs of UTF-16 offsets: the initial
 * symbols of the BPE and SPM merge loops (llama.cpp splits on UTF-8 characters the same way).
 */
export function codePointSpans(text: string): { start: number[]; len: number[] } {
  const start: number[] = [];
  const len: number[] = [];
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    const n = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
    start.push(i);
    len.push(n);
    i += n;
  }
  return { start, len };
}
