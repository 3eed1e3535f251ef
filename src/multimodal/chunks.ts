/**
 * Multimodal input → chunks, model-agnostic, in the manner of llama.cpp's mtmd
 * (tools/mtmd/mtmd.cpp `mtmd_tokenizer`, `init_vision`): a prompt holding media markers is split
 * at the markers; text segments become token chunks, each image becomes one or more embedding
 * chunks wrapped in the projector's image tokens (`<start_of_image>` … for Gemma 3, the
 * `<fake_token_around_image><row_R_col_C>` tile grid + `<global-img>` overview for Idefics3 /
 * SmolVLM, nothing for LLaVA-style MLP projectors). The layout rules are data
 * ({@link imageLayout}), not code in the encoder.
 */
import type { EmbeddingsValue } from '../bricks/brick.js';
import type { EncodedImage, VisionModel } from '../models/vision/index.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { RequestError } from '../core/errors.js';

/** The media marker of llama.cpp's mtmd (`mtmd_default_marker()`). */
export const MEDIA_MARKER = '<__media__>';

/** What the chunker reads of an encoded image (src/models/vision `EncodedImage`). */
export type EncodedImageLike = Pick<EncodedImage, 'tiles' | 'grid'>;

/** What the chunker needs from a vision model (src/models/vision `VisionModel`). */
export interface ImageEncoder extends Pick<VisionModel, 'projector' | 'nEmbdOut'> {
  /** Decodes, preprocesses and encodes one image. @throws ImageError */
  encode(image: Uint8Array | string): Promise<EncodedImageLike>;
}

/** A text chunk: token ids. */
export interface TextChunk {
  readonly type: 'text';
  readonly tokens: number[];
}

/** An image chunk: embeddings float32 [n, d] entering the LM at consecutive positions. */
export interface ImageChunk {
  readonly type: 'image';
  readonly embd: EmbeddingsValue;
  /** Rows of this chunk attend to each other both ways (Gemma 3; mtmd_decode_use_non_causal). */
  readonly nonCausal: boolean;
}

export type InputChunk = TextChunk | ImageChunk;

/**
 * How a projector family wraps an image in the token stream (tools/mtmd/mtmd.cpp `init_vision`).
 * Strings are tokenized with special-token parsing; `*Tokens` entries are looked up as single
 * vocabulary pieces (mtmd `lookup_token`).
 */
export interface ImageLayout {
  /** Text before the image (img_beg), e.g. `<start_of_image>`. */
  readonly begin: string;
  /** Text after the image (img_end). */
  readonly end: string;
  /** Tiled layout (Idefics3): pieces around tiles and the overview; absent = one chunk per image. */
  readonly tiled?: {
    /** printf-like template before each tile; `%R`/`%C` = 1-based row/column. */
    readonly tileStart: string;
    /** Pieces after each row but the last. */
    readonly rowEnd: readonly string[];
    /** Pieces before / after the overview image. */
    readonly overviewStart: readonly string[];
    readonly overviewEnd: readonly string[];
    /** Overview before the tiles (true) or after them (false). */
    readonly overviewFirst: boolean;
  };
  /** Image rows attend bidirectionally. */
  readonly nonCausal: boolean;
}

/**
 * The image layout of a projector type.
 * @throws RequestError (`UNSUPPORTED_PROJECTOR`) for a projector without a known layout.
 */
export function imageLayout(projector: string): ImageLayout {
  switch (projector) {
    case 'mlp':
    case 'mlp_norm':
    case 'ldp':
    case 'ldpv2':
      return { begin: '', end: '', nonCausal: false };
    case 'gemma3':
      return { begin: '<start_of_image>', end: '<end_of_image>', nonCausal: true };
    case 'idefics3':
      // HF transformers processing_idefics3.py; mtmd: tiles first, each `<fake_token_around_image><row_R_col_C>`,
      // "\n" after each row but the last, then "\n\n<fake_token_around_image><global-img>" overview "<fake_token_around_image>".
      return {
        begin: '',
        end: '',
        nonCausal: false,
        tiled: {
          tileStart: '<fake_token_around_image><row_%R_col_%C>',
          rowEnd: ['\n'],
          overviewStart: ['\n\n', '<fake_token_around_image>', '<global-img>'],
          overviewEnd: ['<fake_token_around_image>'],
          overviewFirst: false,
        },
      };
    default:
      throw new RequestError('UNSUPPORTED_PROJECTOR', `no multimodal chunk layout for projector type '${projector}' (known: mlp, idefics3, gemma3)`);
  }
}

/** Cache of piece → token id lookups per tokenizer (mtmd `lookup_token` scans the whole vocabulary). */
const pieceCache = new WeakMap<Tokenizer, Map<string, number>>();

/**
 * The first token id whose decoded piece (special tokens rendered) equals `piece`
 * (mtmd.cpp `lookup_token`).
 * @throws RequestError (`MISSING_IMAGE_TOKEN`) when no token has that piece.
 */
export function lookupToken(tok: Tokenizer, piece: string): number {
  let m = pieceCache.get(tok);
  if (!m) pieceCache.set(tok, (m = new Map()));
  const hit = m.get(piece);
  if (hit !== undefined) return hit;
  const want = Buffer.from(piece, 'utf8');
  for (let id = 0; id < tok.vocabSize; id++) {
    const b = tok.tokenBytes(id, true);
    if (b.length === want.length && Buffer.compare(Buffer.from(b.buffer, b.byteOffset, b.length), want) === 0) {
      m.set(piece, id);
      return id;
    }
  }
  throw new RequestError('MISSING_IMAGE_TOKEN', `the vocabulary has no token ${JSON.stringify(piece)} needed by the image layout`);
}

/** Appends tokens to the last chunk when it is text, else starts a text chunk (mtmd add_text). */
function pushText(out: InputChunk[], tokens: readonly number[]): void {
  if (tokens.length === 0) return;
  const last = out[out.length - 1];
  if (last && last.type === 'text') last.tokens.push(...tokens);
  else out.push({ type: 'text', tokens: [...tokens] });
}

/**
 * Splits `text` at {@link MEDIA_MARKER}s and interleaves the encoded images (mtmd_tokenize):
 * segments are tokenized without BOS/EOS and with special-token parsing; BOS (when the tokenizer
 * adds one) goes at the front of the first text chunk, or into a new first chunk.
 * @param images encoded images, one per marker, in order
 * @throws RequestError (`MEDIA_COUNT_MISMATCH`) when markers and images disagree in number;
 *   ShapeError-like RequestError (`EMBEDDING_WIDTH_MISMATCH`) when an image's width is not `nEmbd`.
 */
export function buildChunks(
  tok: Tokenizer,
  text: string,
  images: readonly EncodedImageLike[],
  layout: ImageLayout,
  nEmbd: number,
  opts: { addSpecial?: boolean } = {},
): InputChunk[] {
  const segments = text.split(MEDIA_MARKER);
  if (segments.length - 1 !== images.length) {
    throw new RequestError('MEDIA_COUNT_MISMATCH', `the prompt has ${segments.length - 1} media markers but ${images.length} images were given`);
  }
  const encodeText = (s: string): number[] => (s === '' ? [] : tok.encode(s, { addSpecial: false, parseSpecial: true }));
  const pieces = (ps: readonly string[]): number[] => ps.map((p) => lookupToken(tok, p));
  const out: InputChunk[] = [];
  const pushImage = (e: EmbeddingsValue): void => {
    if (e.shape[1] !== nEmbd) {
      throw new RequestError('EMBEDDING_WIDTH_MISMATCH', `image embeddings are ${e.shape[1]} wide but the language model's n_embd is ${nEmbd} (wrong mmproj?)`);
    }
    out.push({ type: 'image', embd: e, nonCausal: layout.nonCausal });
  };
  for (let i = 0; i < segments.length; i++) {
    pushText(out, encodeText(segments[i]!));
    if (i === images.length) break;
    const img = images[i]!;
    pushText(out, encodeText(layout.begin));
    const t = layout.tiled;
    if (t && img.grid) {
      const { rows, cols } = img.grid;
      if (img.tiles.length !== rows * cols + 1) {
        throw new RequestError('BAD_TILING', `a ${rows}×${cols} tiled image needs ${rows * cols + 1} embeddings (tiles + overview), got ${img.tiles.length}`);
      }
      const overview = img.tiles[rows * cols]!;
      const addOverview = (): void => {
        pushText(out, pieces(t.overviewStart));
        pushImage(overview);
        pushText(out, pieces(t.overviewEnd));
      };
      if (t.overviewFirst) addOverview();
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          pushText(out, encodeText(t.tileStart.replace('%R', String(r + 1)).replace('%C', String(c + 1))));
          pushImage(img.tiles[r * cols + c]!);
        }
        if (r !== rows - 1) pushText(out, pieces(t.rowEnd));
      }
      if (!t.overviewFirst) addOverview();
    } else {
      for (const e of img.tiles) pushImage(e);
    }
    pushText(out, encodeText(layout.end));
  }
  if (opts.addSpecial !== false && tok.addBos && tok.bos >= 0) {
    const first = out[0];
    if (first && first.type === 'text') first.tokens.unshift(tok.bos);
    else out.unshift({ type: 'text', tokens: [tok.bos] });
  }
  if (opts.addSpecial !== false && tok.addEos && tok.eos >= 0) pushText(out, [tok.eos]);
  return out;
}

/** Number of LM positions the chunks occupy. */
export function chunkPositions(chunks: readonly InputChunk[]): number {
  let n = 0;
  for (const c of chunks) n += c.type === 'text' ? c.tokens.length : c.embd.shape[0];
  return n;
}
