/**
 * `synflux inspect PATH [--json]`: architecture, hyperparameters (`{arch}.*` metadata),
 * tokenizer summary and tensor table of a GGUF file, from {@link describeGGUF} and
 * `tokenizerFromGGUF`. Reads the file only; no native code, no weights bound.
 */
import { openGGUF, type GGUFFile } from '../formats/gguf/reader.js';
import { describeGGUF, type GGUFDescription } from '../formats/gguf/inspect.js';
import { formatBytes, type CliIO } from './io.js';
import { describeVisionTower, formatVisionTower, type VisionTowerSummary } from '../models/vision/summary.js';

/** Tokenizer facts for the report, or why the tokenizer could not be built. */
export interface TokenizerSummary {
  /** `tokenizer.ggml.model` as stored (e.g. `gpt2`, `llama`). */
  model: string | null;
  /** `tokenizer.ggml.pre`. */
  pre: string | null;
  /** Built tokenizer family (`bpe` / `spm`) when SynFlux supports it. */
  kind?: 'bpe' | 'spm';
  vocabSize?: number;
  bos?: number;
  eos?: number;
  eot?: number;
  /** Token texts of bos / eos / eot (null for -1). */
  bosText?: string | null;
  eosText?: string | null;
  eotText?: string | null;
  addBos?: boolean;
  addEos?: boolean;
  hasChatTemplate: boolean;
  /** Set when the tokenizer could not be built (message of the TokenizerError). */
  error?: string;
}

/** What `inspect --json` prints: the GGUF description plus hyperparameters and tokenizer. */
export interface InspectReport extends GGUFDescription {
  /** `{arch}.*` scalar metadata with the prefix removed, e.g. `block_count`, `attention.head_count`. */
  hyperparameters: Record<string, string | number | boolean>;
  tokenizer: TokenizerSummary;
  /** Vision tower of an mmproj file (`clip.has_vision_encoder`), absent otherwise. */
  vision?: VisionTowerSummary;
}

/** Collects `{arch}.*` scalar metadata (bigints as decimal strings). */
export function hyperparameters(file: GGUFFile, arch: string | null): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (!arch) return out;
  const prefix = `${arch}.`;
  for (const [k, v] of file.metadata) {
    if (!k.startsWith(prefix)) continue;
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') out[k.slice(prefix.length)] = v;
    else if (typeof v === 'bigint') out[k.slice(prefix.length)] = v.toString();
  }
  return out;
}

/** Builds the tokenizer (lazily importing src/tokenizers) and summarises it; never throws for tokenizer errors. */
export async function summariseTokenizer(file: GGUFFile): Promise<TokenizerSummary> {
  const str = (k: string): string | null => {
    const v = file.metadata.get(k);
    return typeof v === 'string' ? v : null;
  };
  const base: TokenizerSummary = {
    model: str('tokenizer.ggml.model'),
    pre: str('tokenizer.ggml.pre'),
    hasChatTemplate: typeof file.metadata.get('tokenizer.chat_template') === 'string',
  };
  try {
    const { tokenizerFromGGUF } = await import('../tokenizers/index.js');
    const t = tokenizerFromGGUF(file.metadata);
    const text = (id: number): string | null => (id >= 0 ? t.tokenText(id) : null);
    return {
      ...base,
      kind: t.kind, pre: t.pre, vocabSize: t.vocabSize,
      bos: t.bos, eos: t.eos, eot: t.eot,
      bosText: text(t.bos), eosText: text(t.eos), eotText: text(t.eot),
      addBos: t.addBos, addEos: t.addEos,
    };
  } catch (e) {
    return { ...base, error: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Reads a GGUF file and builds the full report.
 * @throws ModelFormatError for a malformed file, or when it cannot be read.
 */
export async function inspectReport(path: string): Promise<InspectReport> {
  const file = openGGUF(path);
  const desc = describeGGUF(file);
  const vision = describeVisionTower(file);
  return { ...desc, hyperparameters: hyperparameters(file, desc.architecture), tokenizer: await summariseTokenizer(file), ...(vision ? { vision } : {}) };
}

function table(rows: string[][], rightAlign: boolean[] = []): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => (rightAlign[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

/** Renders the report as human-readable text (sections: file, hyperparameters, tokenizer, tensors by type, tensor table). */
export function formatReport(r: InspectReport): string {
  const out: string[] = [];
  out.push(`file          ${r.source}`);
  out.push(`format        GGUF v${r.version}, ${formatBytes(r.fileBytes)}, alignment ${r.alignment}`);
  out.push(`architecture  ${r.architecture ?? '(none)'}`);
  out.push(`name          ${r.name ?? '(none)'}`);
  out.push(`parameters    ${r.parameters.toLocaleString('en-US')} in ${r.tensorCount} tensors (${formatBytes(r.tensorBytes)})`);
  out.push('', 'hyperparameters');
  const hp = Object.entries(r.hyperparameters);
  out.push(hp.length ? table(hp.map(([k, v]) => [`  ${k}`, String(v)])) : '  (none)');
  const t = r.tokenizer;
  out.push('', 'tokenizer');
  if (t.error) out.push(`  model ${t.model ?? '?'}, pre ${t.pre ?? '?'}: not supported (${t.error})`);
  else {
    const tokenDesc = (id: number | undefined, text: string | null | undefined): string => (id === undefined || id < 0 ? '-' : `${id} ${JSON.stringify(text)}`);
    out.push(table([
      ['  kind', `${t.kind} (tokenizer.ggml.model ${t.model})`],
      ['  pre', String(t.pre)],
      ['  vocab', String(t.vocabSize)],
      ['  bos', `${tokenDesc(t.bos, t.bosText)}${t.addBos ? ' (added)' : ''}`],
      ['  eos', `${tokenDesc(t.eos, t.eosText)}${t.addEos ? ' (added)' : ''}`],
      ['  eot', tokenDesc(t.eot, t.eotText)],
      ['  chat template', t.hasChatTemplate ? 'yes' : 'no'],
    ]));
  }
  if (r.vision) out.push('', ...formatVisionTower(r.vision));
  out.push('', 'tensors by type');
  out.push(table(Object.entries(r.byType).map(([ty, v]) => [`  ${ty}`, String(v.count), formatBytes(v.bytes)]), [false, true, true]));
  out.push('', 'tensors');
  out.push(table(
    [['  name', 'type', 'dims', 'bytes'], ...r.tensors.map((x) => [`  ${x.name}`, x.type, `[${x.dims.join(', ')}]`, String(x.bytes)])],
    [false, false, false, true],
  ));
  return out.join('\n') + '\n';
}

/**
 * Runs `synflux inspect`.
 * @throws ModelFormatError when the file is not a readable GGUF file.
 */
export async function inspectCommand(path: string, opts: { json?: boolean }, io: CliIO): Promise<void> {
  const report = await inspectReport(path);
  io.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
}
