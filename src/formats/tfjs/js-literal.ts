/**
 * A safe reader for the JavaScript literal inside a bundled TF.js model file.
 *
 * nsfwjs ships its models as browserify bundles (`model.min.js`, `group1-shard1of1.min.js`): a
 * UMD wrapper around one CommonJS module whose body is `a.exports=<literal>`, the literal being
 * the model JSON written as a minified JS object (unquoted keys, `!0`/`!1` for booleans, `.5` for
 * 0.5) or a base64 string of weight bytes. Executing such a file would run arbitrary code from a
 * model file, so this module parses the literal instead: objects, arrays, strings, numbers,
 * `true`/`false`/`null`, `!0`/`!1`, `void 0` and nothing else (ECMA-262 §13.2 literal syntax).
 */
import { ModelFormatError } from '../../core/errors.js';

/** A parsed literal value (JSON values plus `undefined` for `void 0`). */
export type JsLiteral = null | undefined | boolean | number | string | JsLiteral[] | { [key: string]: JsLiteral };

const MAX_DEPTH = 256;

/** Recursive-descent parser over one source string. */
class LiteralParser {
  pos: number;
  constructor(private readonly src: string, start: number, private readonly source: string) {
    this.pos = start;
  }

  fail(what: string): never {
    const near = this.src.slice(this.pos, this.pos + 40).replace(/\s+/g, ' ');
    throw new ModelFormatError('TFJS_BAD_LITERAL', `${this.source}: ${what} at offset ${this.pos} (near "${near}")`);
  }

  ws(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else break;
    }
  }

  value(depth: number): JsLiteral {
    if (depth > MAX_DEPTH) this.fail('literal nested too deeply');
    this.ws();
    const s = this.src;
    if (this.pos >= s.length) this.fail('unexpected end of literal');
    const c = s[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"' || c === "'") return this.string();
    if (c === '!') {
      const d = s[this.pos + 1];
      if (d === '0' || d === '1') {
        this.pos += 2;
        return d === '0';
      }
      this.fail('unsupported expression');
    }
    if (c === '-' || c === '+' || c === '.' || (c >= '0' && c <= '9')) return this.number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null], ['void 0', undefined]] as const) {
      if (s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail('unsupported value');
  }

  object(depth: number): { [key: string]: JsLiteral } {
    const out: { [key: string]: JsLiteral } = Object.create(null) as { [key: string]: JsLiteral };
    this.pos++; // {
    this.ws();
    if (this.src[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      const key = this.key();
      this.ws();
      if (this.src[this.pos] !== ':') this.fail('expected ":"');
      this.pos++;
      out[key] = this.value(depth + 1);
      this.ws();
      const c = this.src[this.pos++];
      if (c === '}') return out;
      if (c !== ',') {
        this.pos--;
        this.fail('expected "," or "}"');
      }
    }
  }

  key(): string {
    const s = this.src;
    const c = s[this.pos];
    if (c === '"' || c === "'") return this.string();
    const m = /^[A-Za-z_$][A-Za-z0-9_$]*|^[0-9]+/.exec(s.slice(this.pos, this.pos + 256));
    if (!m) this.fail('expected a property name');
    this.pos += m[0].length;
    return m[0];
  }

  array(depth: number): JsLiteral[] {
    const out: JsLiteral[] = [];
    this.pos++; // [
    this.ws();
    if (this.src[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.src[this.pos++];
      if (c === ']') return out;
      if (c !== ',') {
        this.pos--;
        this.fail('expected "," or "]"');
      }
    }
  }

  string(): string {
    const s = this.src;
    const quote = s[this.pos++];
    let out = '';
    let start = this.pos;
    for (;;) {
      if (this.pos >= s.length) this.fail('unterminated string');
      const c = s[this.pos];
      if (c === quote) {
        out += s.slice(start, this.pos);
        this.pos++;
        return out;
      }
      if (c === '\n' || c === '\r') this.fail('newline in string');
      if (c !== '\\') {
        this.pos++;
        continue;
      }
      out += s.slice(start, this.pos);
      const e = s[this.pos + 1];
      this.pos += 2;
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0', '\\': '\\', '"': '"', "'": "'", '/': '/' };
      if (e !== undefined && e in simple) out += simple[e];
      else if (e === 'u' || e === 'x') {
        const n = e === 'u' ? 4 : 2;
        const hex = s.slice(this.pos, this.pos + n);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) this.fail('bad escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += n;
      } else this.fail('bad escape');
      start = this.pos;
    }
  }

  number(): number {
    const m = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(this.src.slice(this.pos, this.pos + 64));
    if (!m) this.fail('bad number');
    this.pos += m[0].length;
    const v = Number(m[0]);
    if (!Number.isFinite(v)) this.fail('non-finite number');
    return v;
  }
}

/**
 * Parses one JS literal starting at `start` (leading whitespace allowed).
 * @returns the value and the offset just after it
 * @throws ModelFormatError `TFJS_BAD_LITERAL` on any syntax outside the supported subset
 */
export function parseJsLiteral(src: string, start = 0, source = '<literal>'): { value: JsLiteral; end: number } {
  const p = new LiteralParser(src, start, source);
  const value = p.value(0);
  return { value, end: p.pos };
}

/**
 * Extracts the exported literal of a browserify-bundled CommonJS module (`….exports=<literal>`),
 * as nsfwjs's `*.min.js` model and weight files are written. The file must contain exactly one
 * `.exports=` assignment followed by a literal.
 * @throws ModelFormatError `TFJS_BAD_BUNDLE` when there is no single `.exports=` assignment,
 *   `TFJS_BAD_LITERAL` when what follows is not a supported literal
 */
export function bundleExportLiteral(src: string, source: string): JsLiteral {
  // Linear scan for ".exports" (a regex with a leading identifier class backtracks quadratically
  // over the megabytes of base64 in a weight bundle), then `<ident>.exports = <literal start>`.
  const hits: number[] = [];
  const isIdent = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_$]/.test(c);
  for (let at = src.indexOf('.exports'); at >= 0; at = src.indexOf('.exports', at + 8)) {
    if (!isIdent(src[at - 1])) continue;
    let p = at + 8;
    while (p < src.length && /\s/.test(src[p]!)) p++;
    if (src[p] !== '=' || src[p + 1] === '=') continue;
    p++;
    while (p < src.length && /\s/.test(src[p]!)) p++;
    if (src[p] === '{' || src[p] === '[' || src[p] === '"' || src[p] === "'") hits.push(p);
  }
  if (hits.length !== 1) {
    throw new ModelFormatError('TFJS_BAD_BUNDLE', `${source}: expected one module.exports=<literal> assignment, found ${hits.length}`);
  }
  return parseJsLiteral(src, hits[0], source).value;
}
