/**
 * End to end image + prompt → text on the random-weight SmolVLM (idefics3), LLaVA (mlp) and Gemma 3
 * checkpoints (scripts/reference/make-random-vlm.py, regenerated into .cache/vlm/<family>), through
 * the public path a user takes: `loadModel(model.gguf, { mmproj })` + `generateText({ prompt, images })`.
 *
 * Reference: tests/fixtures/vlm/<family>/meta.json, written once by scripts/reference/vlm-goldens.sh
 * from llama.cpp's libmtmd (scripts/reference/mtmd-dump.cpp: mtmd_tokenize chunk layout, then greedy
 * decoding with flash attention off and an F32 KV cache; the `llama-mtmd-cli` stdout recorded beside
 * it matches). Checked per scenario (one image with a marker, two images, no marker — images go
 * first, as mtmd does): the chunk layout (text token ids and image token counts) and the 16 greedy
 * tokens, which must be identical.
 *
 * LLaVA: llama.cpp deviates from the Hugging Face definition (class token after the patches, one
 * block fewer; see tests/vision/vlm-embeddings.test.ts). We follow HF, so the LLaVA greedy reference
 * is `scenarios.*.hf.greedy`: llama.cpp's language model fed the PyTorch (HF definition) image
 * embeddings, written by the same golden script.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type LoadedModel } from '../../src/models/load.js';
import { generateText } from '../../src/generation/generate.js';
import { prepareMultimodalPrompt } from '../../src/multimodal/prompt.js';
import { ensureVlmCheckpoint, goldenDir, VLM_FAMILIES, type VlmFamily } from '../vision/vlm-fixtures.js';

interface Scenario {
  prompt: string;
  images: string[];
  chunks: ({ type: 'text'; tokens: number[] } | { type: 'image'; n_tokens: number })[];
  n_prompt_pos: number;
  llamacpp: { greedy: number[]; margins: number[] };
  hf?: { greedy: number[]; margins: number[] };
}

function meta(family: VlmFamily): { scenarios: Record<string, Scenario>; compare: { reference: string } } {
  return JSON.parse(readFileSync(join(goldenDir(family), 'meta.json'), 'utf8'));
}

const loaded = new Map<VlmFamily, Promise<LoadedModel>>();
async function model(family: VlmFamily): Promise<{ m: LoadedModel; dir: string }> {
  const dir = await ensureVlmCheckpoint(family);
  let p = loaded.get(family);
  if (!p) {
    p = loadModel(join(dir, 'model.gguf'), { mmproj: join(dir, 'mmproj.gguf'), threads: 2, contextSize: 512 });
    loaded.set(family, p);
  }
  return { m: await p, dir };
}

for (const family of VLM_FAMILIES) {
  const scenarios = meta(family).scenarios;
  for (const [name, s] of Object.entries(scenarios)) {
    test(`${family}/${name}: chunk layout and 16 greedy tokens equal ${family === 'llava' ? 'the HF-definition reference' : "llama.cpp's mtmd"}`, async () => {
      const { m, dir } = await model(family);
      const images = s.images.map((f) => join(dir, f));
      const mp = await prepareMultimodalPrompt(m.tokenizer, m.config.nEmbd, m.vision!, { prompt: s.prompt, images });
      const ours = mp.chunks.map((c) => (c.type === 'text' ? { type: 'text', tokens: c.tokens } : { type: 'image', n_tokens: c.embd.shape[0] }));
      const ref = s.chunks.map((c) => (c.type === 'text' ? { type: 'text', tokens: c.tokens } : { type: 'image', n_tokens: c.n_tokens }));
      assert.deepEqual(ours, ref, 'chunk layout differs from mtmd_tokenize');
      assert.equal(mp.nPositions, s.n_prompt_pos);

      const want = family === 'llava' ? s.hf : s.llamacpp;
      assert.ok(want, `no greedy reference for ${family}/${name} in meta.json`);
      const r = await generateText(m, { prompt: s.prompt, images, temperature: 0, maxTokens: want.greedy.length });
      const n = Math.min(r.tokens.length, want.greedy.length);
      let firstDiff = -1;
      for (let i = 0; i < n; i++) if (r.tokens[i] !== want.greedy[i]) { firstDiff = i; break; }
      process.stderr.write(`[vlm] ${family}/${name}: ${r.promptTokens} prompt positions, ${r.tokens.length} tokens, ${firstDiff < 0 ? 'identical' : `first difference at ${firstDiff} (reference margin ${want.margins[firstDiff]})`}\n`);
      assert.deepEqual(r.tokens, want.greedy);
      assert.equal(r.promptTokens, s.n_prompt_pos);
    });
  }
}

for (const family of VLM_FAMILIES) {
  // tokenizer.json: byte-level BPE for smolvlm/llava, the Llama-2 SentencePiece layout for gemma3.
  test(`${family}: the Hugging Face folder (safetensors + config.json + preprocessor_config.json) gives the same text as the GGUF pair`, async () => {
    const { m, dir } = await model(family);
    assert.ok(existsSync(join(dir, 'hf', 'tokenizer.json')), 'make-random-vlm.py must write hf/tokenizer.json');
    const s = meta(family).scenarios['two-images']!;
    const images = s.images.map((f) => join(dir, f));
    const hf = await loadModel(join(dir, 'hf'), { threads: 2, contextSize: 512 });
    try {
      assert.ok(hf.vision, 'the HF VLM folder must attach its vision tower');
      assert.deepEqual(hf.tokenizer.encode(s.prompt, { parseSpecial: true }), m.tokenizer.encode(s.prompt, { parseSpecial: true }), 'tokenizer.json vs GGUF vocab');
      const a = await generateText(m, { prompt: s.prompt, images, temperature: 0, maxTokens: 16 });
      const b = await generateText(hf, { prompt: s.prompt, images, temperature: 0, maxTokens: 16 });
      assert.equal(b.promptTokens, a.promptTokens);
      assert.deepEqual(b.tokens, a.tokens);
    } finally {
      hf.dispose();
    }
  });
}
