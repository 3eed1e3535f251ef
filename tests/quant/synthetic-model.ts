// Small F32 llama-architecture GGUFs for the quantizer tests, written with SynFlux's GGUF writer
// from a fixed integer PRNG (bit-identical on every machine, so golden hashes stay valid). No
// tokenizer: llama-quantize only reads hyperparameters (llama_model::load_hparams) and tensors.
import { writeFileSync } from 'node:fs';
import { GGMLType } from '../../src/core/ggml-type.js';
import { GGUFValueType } from '../../src/formats/gguf/reader.js';
import { serializeGGUF, type GGUFMetadataEntry, type GGUFTensorEntry } from '../../src/formats/gguf/writer.js';

/** Shape of a synthetic checkpoint. */
export interface SyntheticSpec {
  nLayer: number;
  nEmbd: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  nVocab: number;
  /** true: no output.weight (token_embd is the output matrix). */
  tied: boolean;
  seed: number;
}

/** Wide rows (multiples of 256: K-quants apply), 8 layers (use_more_bits varies), separate output. */
export const WIDE: SyntheticSpec = { nLayer: 8, nEmbd: 256, nHead: 4, nHeadKv: 2, nFf: 768, nVocab: 320, tied: false, seed: 11 };
/** Rows of 96 (K-quants fall back to Q5_0/Q5_1/Q8_0), tied embeddings. */
export const NARROW: SyntheticSpec = { nLayer: 3, nEmbd: 96, nHead: 3, nHeadKv: 1, nFf: 512, nVocab: 200, tied: true, seed: 12 };

/** xorshift32 → roughly normal values (sum of four uniforms), std ≈ `scale`; exact float ops only. */
function values(n: number, seed: number, scale: number): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const u = (): number => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (u() + u() + u() + u() - 2) * scale * 1.7320508;
  // a few outliers, as real weights have
  for (let i = 0; i < n; i += 97) out[i] *= 6;
  return out;
}

/** Builds the GGUF bytes of `spec` (all tensors F32). */
export function syntheticModelBytes(spec: SyntheticSpec): Uint8Array {
  const headDim = spec.nEmbd / spec.nHead;
  const meta: GGUFMetadataEntry[] = [
    { key: 'general.architecture', type: GGUFValueType.STRING, value: 'llama' },
    { key: 'general.name', type: GGUFValueType.STRING, value: 'synflux-quant-test' },
    { key: 'general.file_type', type: GGUFValueType.UINT32, value: 0 },
    { key: 'llama.context_length', type: GGUFValueType.UINT32, value: 256 },
    { key: 'llama.embedding_length', type: GGUFValueType.UINT32, value: spec.nEmbd },
    { key: 'llama.feed_forward_length', type: GGUFValueType.UINT32, value: spec.nFf },
    { key: 'llama.block_count', type: GGUFValueType.UINT32, value: spec.nLayer },
    { key: 'llama.attention.head_count', type: GGUFValueType.UINT32, value: spec.nHead },
    { key: 'llama.attention.head_count_kv', type: GGUFValueType.UINT32, value: spec.nHeadKv },
    { key: 'llama.attention.layer_norm_rms_epsilon', type: GGUFValueType.FLOAT32, value: 1e-5 },
    { key: 'llama.rope.dimension_count', type: GGUFValueType.UINT32, value: headDim },
    { key: 'llama.vocab_size', type: GGUFValueType.UINT32, value: spec.nVocab },
  ];
  const tensors: GGUFTensorEntry[] = [];
  let seed = spec.seed * 1000;
  const add = (name: string, dims: number[], scale: number): void => {
    const n = dims.reduce((a, b) => a * b, 1);
    const v = values(n, ++seed, scale);
    tensors.push({ name, dims, type: GGMLType.F32, data: new Uint8Array(v.buffer) });
  };
  const kv = spec.nHeadKv * headDim;
  add('token_embd.weight', [spec.nEmbd, spec.nVocab], 0.05);
  for (let l = 0; l < spec.nLayer; l++) {
    const p = `blk.${l}.`;
    add(`${p}attn_norm.weight`, [spec.nEmbd], 0.2);
    add(`${p}attn_q.weight`, [spec.nEmbd, spec.nEmbd], 0.04);
    add(`${p}attn_k.weight`, [spec.nEmbd, kv], 0.04);
    add(`${p}attn_v.weight`, [spec.nEmbd, kv], 0.04);
    add(`${p}attn_output.weight`, [spec.nEmbd, spec.nEmbd], 0.03);
    add(`${p}ffn_norm.weight`, [spec.nEmbd], 0.2);
    add(`${p}ffn_gate.weight`, [spec.nEmbd, spec.nFf], 0.04);
    add(`${p}ffn_up.weight`, [spec.nEmbd, spec.nFf], 0.04);
    add(`${p}ffn_down.weight`, [spec.nFf, spec.nEmbd], 0.02);
  }
  add('output_norm.weight', [spec.nEmbd], 0.2);
  if (!spec.tied) add('output.weight', [spec.nEmbd, spec.nVocab], 0.05);
  return serializeGGUF({ metadata: meta, tensors });
}

/** Writes {@link syntheticModelBytes} to `path`. */
export function writeSyntheticModel(path: string, spec: SyntheticSpec): void {
  writeFileSync(path, syntheticModelBytes(spec));
}
