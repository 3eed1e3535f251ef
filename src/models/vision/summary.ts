/**
 * A printable summary of an mmproj GGUF's vision tower for `synflux inspect`: the
 * {@link VisionConfig} read from its `clip.*` metadata (the same reader the engine uses) plus
 * derived figures (patches and tokens per tile, block tensors present). Reads metadata and tensor
 * descriptors only; no weights are bound and no native code is loaded.
 */
import type { GGUFFile } from '../../formats/gguf/reader.js';
import { visionConfigFromGGUF, type VisionConfig } from './config.js';

/** What `inspect` reports about a vision tower. */
export interface VisionTowerSummary {
  /** The engine's configuration, or null when it cannot be built (see `error`). */
  config: VisionConfig | null;
  /** Patches per tile side. */
  patchesPerSide?: number;
  /** ViT tokens per tile (patches + class token). */
  encoderTokens?: number;
  /** Embeddings per tile after the projector. */
  tokensPerTile?: number;
  /** Blocks stored in the file (`v.blk.N.*`). */
  blocksInFile?: number;
  hasClassToken?: boolean;
  hasPreNorm?: boolean;
  hasPostNorm?: boolean;
  /** Set when the file has a vision encoder this build cannot run (message of the error). */
  error?: string;
}

/** Summary of the vision tower, or undefined when the file has none (`clip.has_vision_encoder`). */
export function describeVisionTower(file: GGUFFile): VisionTowerSummary | undefined {
  if (file.metadata.get('clip.has_vision_encoder') !== true) return undefined;
  try {
    const c = visionConfigFromGGUF(file);
    const side = c.imageSize / c.patchSize;
    const hasCls = file.tensor('v.class_embd') !== undefined;
    let blocks = 0;
    while (file.tensor(`v.blk.${blocks}.ln1.weight`)) blocks++;
    return {
      config: c,
      patchesPerSide: side,
      encoderTokens: side * side + (hasCls ? 1 : 0),
      tokensPerTile: c.projector === 'mlp' ? side * side : (side / c.nMerge) ** 2,
      blocksInFile: blocks,
      hasClassToken: hasCls,
      hasPreNorm: file.tensor('v.pre_ln.weight') !== undefined,
      hasPostNorm: file.tensor('v.post_ln.weight') !== undefined,
    };
  } catch (e) {
    return { config: null, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Text lines of the `vision tower` section. */
export function formatVisionTower(v: VisionTowerSummary): string[] {
  if (!v.config) return ['vision tower', `  not supported: ${v.error}`];
  const c = v.config;
  const f = (x: readonly number[]): string => `[${x.map((n) => Number(n.toPrecision(6))).join(', ')}]`;
  const rows: [string, string][] = [
    ['projector', c.projector],
    ['image size', `${c.imageSize} px, patch ${c.patchSize} px (${v.patchesPerSide}x${v.patchesPerSide} patches${v.hasClassToken ? ' + class token' : ''})`],
    ['encoder', `${c.nLayer} blocks in file (${c.nLayerRun} run), width ${c.nEmbd}, ${c.nHead} heads, ffn ${c.nFf}, ${c.act}, eps ${Number(c.eps.toPrecision(6))}`],
    ['norms', `pre-LN ${v.hasPreNorm ? 'yes' : 'no'}, post-LN ${v.hasPostNorm ? (c.usePostNorm ? 'yes' : 'present, unused') : 'no'}`],
    ['projector out', `${v.tokensPerTile} tokens x ${c.nEmbdOut} per tile${c.nMerge > 1 ? ` (merge ${c.nMerge}x${c.nMerge})` : ''}`],
    ['preprocess', `${c.resizeAlgo}${c.padStyle !== 'none' ? `, pad ${c.padStyle} rgb(${c.padColor.join(',')})` : ''}${c.longestEdge ? `, longest edge ${c.longestEdge}, tiles of ${c.imageSize} + global` : ''}, mean ${f(c.imageMean)}, std ${f(c.imageStd)}`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  return ['vision tower', ...rows.map(([k, val]) => `  ${k.padEnd(w)}  ${val}`)];
}
