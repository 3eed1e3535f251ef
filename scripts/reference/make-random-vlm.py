#!/usr/bin/env python3
"""Write a small random-weight F32 vision-language checkpoint in three forms: a llama.cpp GGUF pair
(language model + `mmproj`), the same weights as a Hugging Face folder, and two synthetic images.

Usage:
    python3 scripts/reference/make-random-vlm.py --family smolvlm|llava|gemma3 --out DIR [--seed 1]
        [--llama-cpp .cache/llama.cpp] [--preset smolvlm-256m-proportioned]
    (--preset only changes dims, for benchmarks such as bench/plan-check.ts; see PRESETS)

Writes (deterministic: the same bytes on every run with numpy 2.2.6 and the bundled gguf-py):
    DIR/model.gguf    language model (smolvlm, llava: arch `llama`; gemma3: arch `gemma3`) with the
                      real tokenizer of scripts/reference/make-random-gguf.py plus the family's image
                      special tokens appended as CONTROL tokens
    DIR/mmproj.gguf   llama.cpp `clip.*` metadata + `v.*` / `mm.*` tensors (tools/mtmd/clip-impl.h of
                      the bundled source), as written by its converters:
                        smolvlm: conversion/smolvlm.py (projector_type idefics3)
                        gemma3 : conversion/gemma.py Gemma3VisionModel (projector_type gemma3)
                        llava  : tools/mtmd/legacy-models/convert_image_encoder_to_gguf.py with
                                 --llava-projector (projector_type mlp): the CLIP tower's LAST block is
                                 dropped (block_count = num_hidden_layers - 1), no post_ln, no
                                 clip.vision.feature_layer, fc1/fc2 stored under the legacy swapped names
                                 (fc1 -> ffn_down, fc2 -> ffn_up; clip.cpp swaps them back by shape)
    DIR/hf/           model.safetensors (HF tensor names of Idefics3ForConditionalGeneration /
                      LlavaForConditionalGeneration / Gemma3ForConditionalGeneration, transformers >= 4.52
                      layout `model.<part>.*` + `lm_head.weight`), config.json, preprocessor_config.json,
                      processor_config.json; tokenizer.json + tokenizer_config.json: byte-level BPE (smolvlm,
                      llava; GPT-2 layout) or, for gemma3's SentencePiece vocab, the layout `tokenizers`
                      gives Llama-2 (transformers convert_slow_tokenizer.py LlamaConverter: BPE with
                      byte_fallback, merges from generate_merges over the SentencePiece scores, Prepend +
                      Replace normalizer, Replace/ByteFallback/Fuse/Strip decoder), image tokens as added tokens
    DIR/image.png     RGB, the model's native input size (smolvlm: the preprocessor's longest edge, so the
                      tiles are exact crops), smooth gradients + shapes
    DIR/image2.png    RGB, non-square (exercises resize / tiling / padding)
    DIR/manifest.json dims, special token ids, sha256 of every file

The HF copy holds the *same* numbers: q/k rows of llama layers in HF's rotate-half order (the inverse
of conversion/llama.py LlamaModel.permute), Gemma norms without the +1 that GGUF stores
(conversion/gemma.py), Gemma 3's soft-emb norm likewise, and for LLaVA the full CLIP tower (all
num_hidden_layers blocks + post_layernorm, which HF's vision_feature_layer=-2 never uses).

Needs python3 with numpy 2.2.6 and pyyaml (for gguf-py), like make-random-gguf.py.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# LM dims follow scripts/reference/make-random-gguf.py (llama: GPT-2 BPE vocab; gemma3: llama-spm vocab).
LLAMA_LM = dict(vocab='ggml-vocab-gpt-2.gguf', n_layer=4, n_embd=64, n_head=4, n_head_kv=2, head_dim=16, n_ff=128, tied=False, out_norm=1.0)
GEMMA3_LM = dict(vocab='ggml-vocab-llama-spm.gguf', n_layer=8, n_embd=64, n_head=4, n_head_kv=2, head_dim=32, n_ff=128, tied=True, out_norm=-2.5,
                 swa=32)

FAMILIES = {
    # SigLIP (no CLS, gelu tanh, post-LN) + pixel shuffle (scale 2) + linear; tiles of 96 px,
    # preprocessor longest edge 192 -> a 192x192 image gives a 2x2 grid + overview, 9 tokens each.
    'smolvlm': dict(lm_arch='llama', lm=LLAMA_LM, proj='idefics3',
                    vision=dict(image_size=96, patch_size=16, n_embd=64, n_ff=128, n_layer=2, n_head=4, eps=1e-6),
                    scale_factor=2, longest_edge=192, mean=[0.5] * 3, std=[0.5] * 3,
                    image=(192, 192), image2=(160, 96),
                    tokens=['<fake_token_around_image>', '<image>', '<global-img>', '<end_of_utterance>']
                    + [f'<row_{r}_col_{c}>' for r in range(1, 7) for c in range(1, 7)]),
    # CLIP ViT (CLS, pre-LN, quick_gelu) with 3 HF blocks (vision_feature_layer -2 -> 2 used) + MLP (gelu).
    'llava': dict(lm_arch='llama', lm=LLAMA_LM, proj='mlp',
                  vision=dict(image_size=112, patch_size=14, n_embd=64, n_ff=128, n_layer=3, n_head=4, eps=1e-5),
                  mean=CLIP_MEAN, std=CLIP_STD, image=(112, 112), image2=(160, 112),
                  tokens=['<image>']),
    # SigLIP + 4x4 average pool (16x16 patches -> 4x4 = 16 tokens) + soft-emb RMSNorm + linear.
    'gemma3': dict(lm_arch='gemma3', lm=GEMMA3_LM, proj='gemma3',
                   vision=dict(image_size=224, patch_size=14, n_embd=64, n_ff=128, n_layer=2, n_head=4, eps=1e-6),
                   pool=4, mean=[0.5] * 3, std=[0.5] * 3, image=(224, 224), image2=(256, 160),
                   tokens=['<start_of_image>', '<end_of_image>', '<image_soft_token>']),
}
# Presets that change only the dims of a family (for benchmarks; the golden fixtures use the defaults).
# smolvlm-256m-proportioned: SmolVLM-256M's vision tower (SigLIP-B/16, 93M parameters, 512-px tiles,
# 1024 patches per tile) costs several times the LM's prefill per image; the default random tower
# (2 blocks of width 64, 36 patches) is negligible next to its LM. This preset keeps the LM and scales
# the tower down from SmolVLM-256M's shape (patch 16, pixel shuffle, tiles + overview) so that it
# again dominates the vision-language work: 128-px tiles (64 patches), width 192 (3 heads of 64),
# MLP 768, 4 blocks (2.0M parameters, ~0.26 GFLOP per tile), images of 256 px (2x2 tiles + overview).
PRESETS = {
    'smolvlm-256m-proportioned': dict(family='smolvlm', vision=dict(image_size=128, patch_size=16, n_embd=192, n_ff=768, n_layer=4, n_head=3, eps=1e-6),
                                      longest_edge=256, image=(256, 256), image2=(256, 160)),
}
N_CTX = 512
TOKEN_TYPE_CONTROL = 3
TOKEN_TYPE_UNKNOWN = 2


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--family', required=True, choices=sorted(FAMILIES))
    p.add_argument('--out', required=True, help='output folder (created)')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--preset', choices=sorted(PRESETS), help='change the dims of the family (see PRESETS)')
    p.add_argument('--llama-cpp', default=os.environ.get('LLAMA_CPP_DIR', str(ROOT / '.cache' / 'llama.cpp')))
    return p.parse_args()


# ----------------------------------------------------------------------------------------------
# vocabulary


def read_vocab(gguf, path: Path) -> list[tuple[str, object, object, object]]:
    """Every tokenizer.* key of a llama.cpp vocab file as (key, value, main type, sub type), raw bytes for strings."""
    r = gguf.GGUFReader(str(path))
    out = []
    for key, f in r.fields.items():
        if not key.startswith('tokenizer.'):
            continue
        main = f.types[0]
        if main == gguf.GGUFValueType.ARRAY:
            sub = f.types[-1]
            if sub == gguf.GGUFValueType.STRING:
                val = [bytes(f.parts[i]) for i in f.data]
            else:
                val = [f.parts[i].tolist()[0] for i in f.data]
            out.append((key, val, main, sub))
        elif main == gguf.GGUFValueType.STRING:
            out.append((key, bytes(f.parts[-1]), main, None))
        else:
            out.append((key, f.parts[-1].tolist()[0], main, None))
    return out


def write_vocab(gguf, writer, fields, extra: list[str]) -> tuple[int, dict[str, int], list[bytes], list[int]]:
    """Writes the vocab with `extra` appended as CONTROL tokens; returns (n_vocab, ids of extra, tokens, types)."""
    d = {k: (v, m, s) for k, v, m, s in fields}
    tokens = list(d['tokenizer.ggml.tokens'][0])
    n0 = len(tokens)
    ids = {}
    for t in extra:
        assert t.encode() not in tokens, f'{t} already in vocab'
        ids[t] = len(tokens)
        tokens.append(t.encode())
    types = list(d['tokenizer.ggml.token_type'][0]) + [TOKEN_TYPE_CONTROL] * len(extra)
    for key, val, main, sub in fields:
        if key == 'tokenizer.ggml.tokens':
            val = tokens
        elif key == 'tokenizer.ggml.token_type':
            val = types
        elif key == 'tokenizer.ggml.scores':
            val = list(val) + [0.0] * len(extra)
        if sub is not None:
            writer.add_key_value(key, val, main, sub)
        else:
            writer.add_key_value(key, val, main)
    assert len(tokens) == n0 + len(extra)
    return len(tokens), ids, tokens, types


def spm_merges(vocab: dict[str, int], vocab_scores: list[tuple[str, float]]) -> list[tuple[str, str]]:
    """BPE merges of a SentencePiece vocab, as transformers' convert_slow_tokenizer.generate_merges makes them:
    every split (l, r) of a piece with both halves in the vocab, halves ordered by their ids, then all
    sorted by the piece's score, descending, ties by longer left then longer right half (stable sort)."""
    merges = []
    for piece, score in vocab_scores:
        local = [(piece[:i], piece[i:], score) for i in range(1, len(piece)) if piece[:i] in vocab and piece[i:] in vocab]
        merges.extend(sorted(local, key=lambda x: (vocab[x[0]], vocab[x[1]])))
    merges.sort(key=lambda v: (v[2], len(v[0]), len(v[1])), reverse=True)
    return [(l, r) for l, r, _ in merges]


def write_spm_tokenizer_json(hf: Path, vd, tokens: list[bytes], token_types: list[int], dump) -> None:
    """tokenizer.json + tokenizer_config.json of a SentencePiece (`llama`) vocab in the layout of Llama-2's
    Hugging Face files (tokenizers' serde of transformers LlamaConverter, legacy=True): the SentencePiece
    pieces (ids below the first appended CONTROL token) form model.vocab, <unk>/<s>/</s> and the appended
    tokens are added_tokens (special), merges come from the scores (spm_merges)."""
    n_sp = len(vd['tokenizer.ggml.tokens'][0])
    scores = vd['tokenizer.ggml.scores'][0]
    pieces = [t.decode('utf-8') for t in tokens]
    vocab = {pieces[i]: i for i in range(n_sp)}
    merges = spm_merges(vocab, [(pieces[i], float(scores[i])) for i in range(n_sp)])
    unk = pieces[vd['tokenizer.ggml.unknown_token_id'][0]]
    bos = pieces[vd['tokenizer.ggml.bos_token_id'][0]]
    eos = pieces[vd['tokenizer.ggml.eos_token_id'][0]]
    specials = [i for i, ty in enumerate(token_types) if ty in (TOKEN_TYPE_CONTROL, TOKEN_TYPE_UNKNOWN)]
    added = [dict(id=i, content=pieces[i], single_word=False, lstrip=False, rstrip=False, normalized=False, special=True) for i in specials]
    add_bos = bool(vd['tokenizer.ggml.add_bos_token'][0]) if 'tokenizer.ggml.add_bos_token' in vd else True
    add_eos = bool(vd['tokenizer.ggml.add_eos_token'][0]) if 'tokenizer.ggml.add_eos_token' in vd else False
    single = ([dict(SpecialToken=dict(id=bos, type_id=0))] if add_bos else []) + [dict(Sequence=dict(id='A', type_id=0))]
    pair = single + ([dict(SpecialToken=dict(id=bos, type_id=1))] if add_bos else []) + [dict(Sequence=dict(id='B', type_id=1))]
    tj = dict(version='1.0', truncation=None, padding=None, added_tokens=added,
              normalizer=dict(type='Sequence', normalizers=[dict(type='Prepend', prepend='\u2581'),
                                                            dict(type='Replace', pattern=dict(String=' '), content='\u2581')]),
              pre_tokenizer=None,
              post_processor=dict(type='TemplateProcessing', single=single, pair=pair,
                                  special_tokens={bos: dict(id=bos, ids=[pieces.index(bos)], tokens=[bos])} if add_bos else {}),
              decoder=dict(type='Sequence', decoders=[dict(type='Replace', pattern=dict(String='\u2581'), content=' '),
                                                      dict(type='ByteFallback'), dict(type='Fuse'),
                                                      dict(type='Strip', content=' ', start=1, stop=0)]),
              model=dict(type='BPE', dropout=None, unk_token=unk, continuing_subword_prefix=None, end_of_word_suffix=None,
                         fuse_unk=True, byte_fallback=True, vocab=vocab, merges=[f'{l} {r}' for l, r in merges]))
    (hf / 'tokenizer.json').write_text(json.dumps(tj, ensure_ascii=False) + '\n')
    tc = dict(tokenizer_class='LlamaTokenizer', add_bos_token=add_bos, add_eos_token=add_eos, bos_token=bos, eos_token=eos,
              unk_token=unk, pad_token=None, legacy=True, clean_up_tokenization_spaces=False, model_max_length=N_CTX,
              added_tokens_decoder={str(a['id']): {k: v for k, v in a.items() if k != 'id'} for a in added})
    (hf / 'tokenizer_config.json').write_text(dump(tc))


# ----------------------------------------------------------------------------------------------
# files


def write_safetensors(path: Path, tensors: dict) -> None:
    """safetensors: u64 LE header length, JSON header (sorted names, F32), raw little-endian data."""
    import numpy as np
    header = {'__metadata__': {'format': 'pt'}}
    off = 0
    names = sorted(tensors)
    for n in names:
        a = tensors[n]
        assert a.dtype == np.float32
        header[n] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off + a.nbytes]}
        off += a.nbytes
    js = json.dumps(header, separators=(',', ':'))
    js += ' ' * ((8 - (8 + len(js)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)))
        f.write(js.encode())
        for n in names:
            f.write(np.ascontiguousarray(tensors[n]).astype('<f4').tobytes())


def zlib_stored(raw: bytes) -> bytes:
    """zlib stream of uncompressed (stored) deflate blocks: the same bytes with every zlib version,
    unlike zlib.compress, whose output may change between zlib releases."""
    out = bytearray(b'\x78\x01')
    for i in range(0, max(len(raw), 1), 65535):
        blk = raw[i:i + 65535]
        out += bytes([1 if i + 65535 >= len(raw) else 0]) + struct.pack('<HH', len(blk), len(blk) ^ 0xffff) + blk
    return bytes(out + struct.pack('>I', zlib.adler32(raw) & 0xffffffff))


def write_png(path: Path, rgb) -> None:
    """Minimal RGB8 PNG (filter 0 on every row, stored deflate blocks)."""
    h, w, _ = rgb.shape
    raw = b''.join(b'\x00' + rgb[y].tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff)

    png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) \
        + chunk(b'IDAT', zlib_stored(raw)) + chunk(b'IEND', b'')
    path.write_bytes(png)


def synth_image(w: int, h: int, variant: int):
    """Smooth gradients, a disc, a rectangle and a diagonal band: structured, not noise."""
    import numpy as np
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    u, v = x / max(w - 1, 1), y / max(h - 1, 1)
    r = 40 + 180 * u
    g = 30 + 190 * v
    b = 128 + 90 * np.sin(2 * np.pi * (u + 0.5 * v) + variant)
    cx, cy, rad = (0.35 if variant == 0 else 0.6) * w, 0.4 * h, 0.22 * min(w, h)
    disc = (x - cx) ** 2 + (y - cy) ** 2 < rad ** 2
    r[disc], g[disc], b[disc] = 230, 200 - 40 * variant, 40
    rect = (x > 0.55 * w) & (x < 0.85 * w) & (y > 0.6 * h) & (y < 0.9 * h)
    r[rect], g[rect], b[rect] = 30, 60, 200
    band = np.abs((x / w) - (y / h) + 0.3) < 0.04
    r[band], g[band], b[band] = 250, 250, 250
    img = np.stack([r, g, b], axis=-1)
    return np.clip(np.floor(img), 0, 255).astype(np.uint8)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    llama_cpp = Path(args.llama_cpp)
    sys.path.insert(0, str(llama_cpp / 'gguf-py'))
    import numpy as np
    import gguf

    fam = args.family
    F = FAMILIES[fam]
    if args.preset:
        pr = PRESETS[args.preset]
        if pr['family'] != fam:
            sys.exit(f'preset {args.preset} is for --family {pr["family"]}')
        F = {**F, **{k: v for k, v in pr.items() if k != 'family'}}
    L, V = F['lm'], F['vision']
    lm_arch = F['lm_arch']
    out = Path(args.out)
    (out / 'hf').mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(args.seed)

    def normal(shape, std):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(np.float32)

    def linear(n_out, n_in, gain=1.0):
        return normal((n_out, n_in), gain / np.sqrt(n_in))

    def norm_w(n, scale=1.0):
        return (scale * (1.0 + normal((n,), 0.1))).astype(np.float32)

    # ---------------- language model ----------------
    vocab_fields = read_vocab(gguf, llama_cpp / 'models' / L['vocab'])
    tmp = out / f'model.gguf.{os.getpid()}.partial'
    w = gguf.GGUFWriter(str(tmp), lm_arch)
    w.add_name(f'synflux-random-{fam}-lm-seed{args.seed}')
    w.add_description('Random-weight F32 VLM language model written by SynFlux scripts/reference/make-random-vlm.py')
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    n_vocab, tok_ids, tokens, token_types = write_vocab(gguf, w, vocab_fields, F['tokens'])
    n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff = (L[k] for k in ('n_layer', 'n_embd', 'n_head', 'n_head_kv', 'head_dim', 'n_ff'))
    n_q, n_kv = n_head * head_dim, n_head_kv * head_dim
    w.add_context_length(N_CTX)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    if lm_arch == 'llama':
        w.add_vocab_size(n_vocab)
        w.add_rope_dimension_count(head_dim)
        w.add_rope_freq_base(10000.0)
        w.add_layer_norm_rms_eps(1e-5)
    else:
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
        w.add_rope_freq_base(1000000.0)
        w.add_rope_freq_base_swa(10000.0)
        w.add_sliding_window(L['swa'])
        w.add_layer_norm_rms_eps(1e-6)

    lm = {}  # GGUF name -> numpy (GGUF numbers)
    emb_std = 1.0 / np.sqrt(n_embd) if lm_arch == 'gemma3' else 1.0
    lm['token_embd.weight'] = normal((n_vocab, n_embd), emb_std)
    for i in range(n_layer):
        p = f'blk.{i}.'
        lm[p + 'attn_norm.weight'] = norm_w(n_embd)
        lm[p + 'attn_q.weight'] = linear(n_q, n_embd)
        lm[p + 'attn_k.weight'] = linear(n_kv, n_embd)
        lm[p + 'attn_v.weight'] = linear(n_kv, n_embd)
        if lm_arch == 'gemma3':
            lm[p + 'attn_q_norm.weight'] = norm_w(head_dim)
            lm[p + 'attn_k_norm.weight'] = norm_w(head_dim)
        lm[p + 'attn_output.weight'] = linear(n_embd, n_q)
        if lm_arch == 'gemma3':
            lm[p + 'post_attention_norm.weight'] = norm_w(n_embd)
        lm[p + 'ffn_norm.weight'] = norm_w(n_embd)
        lm[p + 'ffn_gate.weight'] = linear(n_ff, n_embd)
        lm[p + 'ffn_up.weight'] = linear(n_ff, n_embd)
        lm[p + 'ffn_down.weight'] = linear(n_embd, n_ff)
        if lm_arch == 'gemma3':
            lm[p + 'post_ffw_norm.weight'] = norm_w(n_embd)
    if L['out_norm'] < 0:
        lm['output_norm.weight'] = normal((n_embd,), -L['out_norm'])
    else:
        lm['output_norm.weight'] = norm_w(n_embd, L['out_norm'])
    if not L['tied']:
        lm['output.weight'] = linear(n_vocab, n_embd, gain=2.0)
    for k, a in lm.items():
        w.add_tensor(k, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=False)
    w.close()
    os.replace(tmp, out / 'model.gguf')

    # ---------------- vision tower + projector (HF numbers; GGUF derived below) ----------------
    d, ff, nl, ps, isz = V['n_embd'], V['n_ff'], V['n_layer'], V['patch_size'], V['image_size']
    n_side = isz // ps
    n_patches = n_side * n_side
    clip_like = F['proj'] == 'mlp'
    vt = {}  # HF-relative vision names (under <vision prefix>) -> numpy
    vt['embeddings.patch_embedding.weight'] = normal((d, 3, ps, ps), 1.0 / np.sqrt(3 * ps * ps))
    if clip_like:
        vt['embeddings.class_embedding'] = normal((d,), 1.0)
        vt['embeddings.position_embedding.weight'] = normal((n_patches + 1, d), 0.5)
        vt['pre_layrnorm.weight'] = norm_w(d)
        vt['pre_layrnorm.bias'] = normal((d,), 0.1)
    else:
        vt['embeddings.patch_embedding.bias'] = normal((d,), 0.1)
        vt['embeddings.position_embedding.weight'] = normal((n_patches, d), 0.5)
    for i in range(nl):
        p = f'encoder.layers.{i}.'
        vt[p + 'layer_norm1.weight'] = norm_w(d)
        vt[p + 'layer_norm1.bias'] = normal((d,), 0.1)
        for n in ('q_proj', 'k_proj', 'v_proj', 'out_proj'):
            vt[p + f'self_attn.{n}.weight'] = linear(d, d)
            vt[p + f'self_attn.{n}.bias'] = normal((d,), 0.1)
        vt[p + 'layer_norm2.weight'] = norm_w(d)
        vt[p + 'layer_norm2.bias'] = normal((d,), 0.1)
        vt[p + 'mlp.fc1.weight'] = linear(ff, d)
        vt[p + 'mlp.fc1.bias'] = normal((ff,), 0.1)
        vt[p + 'mlp.fc2.weight'] = linear(d, ff)
        vt[p + 'mlp.fc2.bias'] = normal((d,), 0.1)
    vt['post_layernorm.weight'] = norm_w(d)
    vt['post_layernorm.bias'] = normal((d,), 0.1)

    pj = {}  # HF projector names (full) -> numpy
    if F['proj'] == 'idefics3':
        s = F['scale_factor']
        pj['model.connector.modality_projection.proj.weight'] = linear(n_embd, d * s * s)
    elif F['proj'] == 'mlp':
        pj['model.multi_modal_projector.linear_1.weight'] = linear(n_embd, d)
        pj['model.multi_modal_projector.linear_1.bias'] = normal((n_embd,), 0.1)
        pj['model.multi_modal_projector.linear_2.weight'] = linear(n_embd, n_embd)
        pj['model.multi_modal_projector.linear_2.bias'] = normal((n_embd,), 0.1)
    else:
        pj['model.multi_modal_projector.mm_input_projection_weight'] = normal((d, n_embd), 1.0 / np.sqrt(d))
        pj['model.multi_modal_projector.mm_soft_emb_norm.weight'] = normal((d,), 0.1)  # Gemma3RMSNorm: x * (1 + w)

    # ---------------- mmproj.gguf ----------------
    tmp = out / f'mmproj.gguf.{os.getpid()}.partial'
    m = gguf.GGUFWriter(str(tmp), 'clip')
    m.add_name(f'synflux-random-{fam}-mmproj-seed{args.seed}')
    m.add_description('Random-weight F32 mmproj written by SynFlux scripts/reference/make-random-vlm.py')
    m.add_file_type(gguf.LlamaFileType.ALL_F32)
    m.add_bool('clip.has_vision_encoder', True)
    m.add_string('clip.projector_type', F['proj'])
    if clip_like:
        m.add_bool('clip.has_text_encoder', False)
        m.add_bool('clip.has_llava_projector', True)
    n_blk_gguf = nl - 1 if clip_like else nl  # legacy llava converter drops the last CLIP block
    m.add_uint32('clip.vision.image_size', isz)
    m.add_uint32('clip.vision.patch_size', ps)
    m.add_uint32('clip.vision.embedding_length', d)
    m.add_uint32('clip.vision.feed_forward_length', ff)
    m.add_uint32('clip.vision.projection_dim', n_embd)
    m.add_uint32('clip.vision.attention.head_count', V['n_head'])
    m.add_float32('clip.vision.attention.layer_norm_epsilon', V['eps'])
    m.add_uint32('clip.vision.block_count', n_blk_gguf)
    m.add_array('clip.vision.image_mean', [float(x) for x in F['mean']])
    m.add_array('clip.vision.image_std', [float(x) for x in F['std']])
    m.add_bool('clip.use_gelu', not clip_like)  # CLIP: quick_gelu; SigLIP: gelu (tanh)
    if F['proj'] == 'idefics3':
        m.add_uint32('clip.vision.projector.scale_factor', F['scale_factor'])
        m.add_uint32('clip.vision.preproc_image_size', F['longest_edge'])
    if F['proj'] == 'gemma3' and F['pool'] != 4:
        m.add_uint32('clip.vision.projector.scale_factor', F['pool'])

    mm = {}
    mm['v.patch_embd.weight'] = vt['embeddings.patch_embedding.weight']
    if clip_like:
        mm['v.class_embd'] = vt['embeddings.class_embedding']
        mm['v.pre_ln.weight'] = vt['pre_layrnorm.weight']
        mm['v.pre_ln.bias'] = vt['pre_layrnorm.bias']
    else:
        mm['v.patch_embd.bias'] = vt['embeddings.patch_embedding.bias']
    mm['v.position_embd.weight'] = vt['embeddings.position_embedding.weight']
    for i in range(n_blk_gguf):
        p, q = f'encoder.layers.{i}.', f'v.blk.{i}.'
        for hf, gg in (('layer_norm1', 'ln1'), ('layer_norm2', 'ln2'), ('self_attn.q_proj', 'attn_q'), ('self_attn.k_proj', 'attn_k'),
                       ('self_attn.v_proj', 'attn_v'), ('self_attn.out_proj', 'attn_out'),
                       ('mlp.fc1', 'ffn_down' if clip_like else 'ffn_up'), ('mlp.fc2', 'ffn_up' if clip_like else 'ffn_down')):
            mm[f'{q}{gg}.weight'] = vt[f'{p}{hf}.weight']
            mm[f'{q}{gg}.bias'] = vt[f'{p}{hf}.bias']
    if not clip_like:
        mm['v.post_ln.weight'] = vt['post_layernorm.weight']
        mm['v.post_ln.bias'] = vt['post_layernorm.bias']
    if F['proj'] == 'idefics3':
        mm['mm.model.fc.weight'] = pj['model.connector.modality_projection.proj.weight']
    elif F['proj'] == 'mlp':
        mm['mm.0.weight'] = pj['model.multi_modal_projector.linear_1.weight']
        mm['mm.0.bias'] = pj['model.multi_modal_projector.linear_1.bias']
        mm['mm.2.weight'] = pj['model.multi_modal_projector.linear_2.weight']
        mm['mm.2.bias'] = pj['model.multi_modal_projector.linear_2.bias']
    else:
        mm['mm.input_projection.weight'] = pj['model.multi_modal_projector.mm_input_projection_weight']
        mm['mm.soft_emb_norm.weight'] = (pj['model.multi_modal_projector.mm_soft_emb_norm.weight'] + np.float32(1)).astype(np.float32)
    for k, a in mm.items():
        m.add_tensor(k, a)
    m.write_header_to_file()
    m.write_kv_data_to_file()
    m.write_tensors_to_file(progress=False)
    m.close()
    os.replace(tmp, out / 'mmproj.gguf')

    # ---------------- HF folder ----------------
    def unpermute(wt, nh):  # inverse of conversion/llama.py LlamaModel.permute
        return wt.reshape(nh, wt.shape[0] // nh // 2, 2, *wt.shape[1:]).swapaxes(1, 2).reshape(wt.shape).astype(np.float32)

    lm_prefix = {'smolvlm': 'model.text_model.', 'llava': 'model.language_model.', 'gemma3': 'model.language_model.'}[fam]
    vis_prefix = {'smolvlm': 'model.vision_model.', 'llava': 'model.vision_tower.vision_model.', 'gemma3': 'model.vision_tower.vision_model.'}[fam]
    hf = {}
    g1 = lm_arch == 'gemma3'
    hf[lm_prefix + 'embed_tokens.weight'] = lm['token_embd.weight']
    for i in range(n_layer):
        p, q = f'blk.{i}.', f'{lm_prefix}layers.{i}.'
        minus = (lambda a: (a - np.float32(1)).astype(np.float32)) if g1 else (lambda a: a)
        hf[q + 'input_layernorm.weight'] = minus(lm[p + 'attn_norm.weight'])
        hf[q + 'self_attn.q_proj.weight'] = lm[p + 'attn_q.weight'] if g1 else unpermute(lm[p + 'attn_q.weight'], n_head)
        hf[q + 'self_attn.k_proj.weight'] = lm[p + 'attn_k.weight'] if g1 else unpermute(lm[p + 'attn_k.weight'], n_head_kv)
        hf[q + 'self_attn.v_proj.weight'] = lm[p + 'attn_v.weight']
        hf[q + 'self_attn.o_proj.weight'] = lm[p + 'attn_output.weight']
        hf[q + 'mlp.gate_proj.weight'] = lm[p + 'ffn_gate.weight']
        hf[q + 'mlp.up_proj.weight'] = lm[p + 'ffn_up.weight']
        hf[q + 'mlp.down_proj.weight'] = lm[p + 'ffn_down.weight']
        if g1:
            hf[q + 'self_attn.q_norm.weight'] = minus(lm[p + 'attn_q_norm.weight'])
            hf[q + 'self_attn.k_norm.weight'] = minus(lm[p + 'attn_k_norm.weight'])
            hf[q + 'post_attention_layernorm.weight'] = minus(lm[p + 'post_attention_norm.weight'])
            hf[q + 'pre_feedforward_layernorm.weight'] = minus(lm[p + 'ffn_norm.weight'])
            hf[q + 'post_feedforward_layernorm.weight'] = minus(lm[p + 'post_ffw_norm.weight'])
        else:
            hf[q + 'post_attention_layernorm.weight'] = lm[p + 'ffn_norm.weight']
    hf[lm_prefix + 'norm.weight'] = (lm['output_norm.weight'] - np.float32(1)).astype(np.float32) if g1 else lm['output_norm.weight']
    if not L['tied']:
        hf['lm_head.weight'] = lm['output.weight']
    for k, a in vt.items():
        if not clip_like and k.startswith('pre_layrnorm'):
            continue
        hf[vis_prefix + k] = a
    hf.update(pj)
    write_safetensors(out / 'hf' / 'model.safetensors', hf)

    tok_str = {t: i for t, i in tok_ids.items()}
    eps_lm = 1e-6 if g1 else 1e-5
    if lm_arch == 'llama':
        text_config = dict(model_type='llama', architectures=['LlamaForCausalLM'], hidden_size=n_embd, intermediate_size=n_ff,
                           num_hidden_layers=n_layer, num_attention_heads=n_head, num_key_value_heads=n_head_kv, head_dim=head_dim,
                           rms_norm_eps=eps_lm, rope_theta=10000.0, max_position_embeddings=N_CTX, vocab_size=n_vocab,
                           hidden_act='silu', tie_word_embeddings=False, attention_bias=False, mlp_bias=False)
    else:
        text_config = dict(model_type='gemma3_text', hidden_size=n_embd, intermediate_size=n_ff, num_hidden_layers=n_layer,
                           num_attention_heads=n_head, num_key_value_heads=n_head_kv, head_dim=head_dim, rms_norm_eps=eps_lm,
                           rope_theta=1000000.0, rope_local_base_freq=10000.0, sliding_window=L['swa'], sliding_window_pattern=6,
                           layer_types=['full_attention' if (i + 1) % 6 == 0 else 'sliding_attention' for i in range(n_layer)],
                           query_pre_attn_scalar=head_dim, hidden_activation='gelu_pytorch_tanh', max_position_embeddings=N_CTX,
                           vocab_size=n_vocab, final_logit_softcapping=None, attn_logit_softcapping=None, rope_scaling=None,
                           tie_word_embeddings=True)
    vision_config = dict(hidden_size=d, intermediate_size=ff, num_hidden_layers=nl, num_attention_heads=V['n_head'],
                         image_size=isz, patch_size=ps, num_channels=3, layer_norm_eps=V['eps'])
    if fam == 'smolvlm':
        vision_config.update(model_type='idefics3_vision', hidden_act='gelu_pytorch_tanh')
        config = dict(architectures=['Idefics3ForConditionalGeneration'], model_type='idefics3', image_token_id=tok_str['<image>'],
                      scale_factor=F['scale_factor'], tie_word_embeddings=False, vision_config=vision_config, text_config=text_config)
        seq = (n_side // F['scale_factor']) ** 2
        pre = dict(image_processor_type='Idefics3ImageProcessor', do_convert_rgb=True, do_resize=True,
                   size={'longest_edge': F['longest_edge']}, resample=1, do_image_splitting=True,
                   max_image_size={'longest_edge': isz}, do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
                   image_mean=F['mean'], image_std=F['std'], do_pad=True)
        proc = dict(processor_class='Idefics3Processor', image_seq_len=seq)
    elif fam == 'llava':
        vision_config.update(model_type='clip_vision_model', hidden_act='quick_gelu', projection_dim=n_embd)
        config = dict(architectures=['LlavaForConditionalGeneration'], model_type='llava', image_token_index=tok_str['<image>'],
                      projector_hidden_act='gelu', vision_feature_layer=-2, vision_feature_select_strategy='default',
                      image_seq_length=n_patches, multimodal_projector_bias=True, tie_word_embeddings=False,
                      vision_config=vision_config, text_config=text_config)
        seq = n_patches
        pre = dict(image_processor_type='CLIPImageProcessor', do_convert_rgb=True, do_resize=True, size={'shortest_edge': isz},
                   resample=3, do_center_crop=True, crop_size={'height': isz, 'width': isz}, do_rescale=True,
                   rescale_factor=1 / 255, do_normalize=True, image_mean=F['mean'], image_std=F['std'])
        proc = dict(processor_class='LlavaProcessor', patch_size=ps, vision_feature_select_strategy='default',
                    num_additional_image_tokens=1)
    else:
        vision_config.update(model_type='siglip_vision_model', hidden_act='gelu_pytorch_tanh', vision_use_head=False)
        seq = (n_side // F['pool']) ** 2
        config = dict(architectures=['Gemma3ForConditionalGeneration'], model_type='gemma3', boi_token_index=tok_str['<start_of_image>'],
                      eoi_token_index=tok_str['<end_of_image>'], image_token_index=tok_str['<image_soft_token>'],
                      mm_tokens_per_image=seq, tie_word_embeddings=True, vision_config=vision_config, text_config=text_config)
        pre = dict(image_processor_type='Gemma3ImageProcessor', do_convert_rgb=True, do_resize=True,
                   size={'height': isz, 'width': isz}, resample=2, do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
                   image_mean=F['mean'], image_std=F['std'], do_pan_and_scan=False, image_seq_length=seq)
        proc = dict(processor_class='Gemma3Processor', image_seq_length=seq)
    config['torch_dtype'] = 'float32'
    dump = lambda obj: json.dumps(obj, indent=2, sort_keys=True) + '\n'  # noqa: E731
    (out / 'hf' / 'config.json').write_text(dump(config))
    (out / 'hf' / 'preprocessor_config.json').write_text(dump(pre))
    (out / 'hf' / 'processor_config.json').write_text(dump(proc))

    vd = {k: (v, mt, st) for k, v, mt, st in vocab_fields}
    if vd['tokenizer.ggml.model'][0] == b'gpt2':
        vocab, added = {}, []
        for i, (t, ty) in enumerate(zip(tokens, token_types)):
            s = t.decode('utf-8')
            if ty == TOKEN_TYPE_CONTROL:
                added.append(dict(id=i, content=s, single_word=False, lstrip=False, rstrip=False, normalized=False, special=True))
            else:
                vocab[s] = i
        merges = [x.decode('utf-8') for x in vd['tokenizer.ggml.merges'][0]]
        tj = dict(version='1.0', truncation=None, padding=None, added_tokens=added, normalizer=None,
                  pre_tokenizer=dict(type='ByteLevel', add_prefix_space=False, trim_offsets=True, use_regex=True),
                  post_processor=None, decoder=dict(type='ByteLevel', add_prefix_space=True, trim_offsets=True, use_regex=True),
                  model=dict(type='BPE', dropout=None, unk_token=None, continuing_subword_prefix='', end_of_word_suffix='',
                             fuse_unk=False, byte_fallback=False, vocab=vocab, merges=merges))
        (out / 'hf' / 'tokenizer.json').write_text(json.dumps(tj, ensure_ascii=False) + '\n')
        eos = tokens[vd['tokenizer.ggml.eos_token_id'][0]].decode()
        bos = tokens[vd['tokenizer.ggml.bos_token_id'][0]].decode()
        tc = dict(tokenizer_class='GPT2Tokenizer', add_bos_token=False, add_prefix_space=False, bos_token=bos, eos_token=eos,
                  model_max_length=N_CTX, added_tokens_decoder={str(a['id']): {k: v for k, v in a.items() if k != 'id'} for a in added},
                  extra_special_tokens={}, **({'image_token': '<image>'} if '<image>' in tok_str else {}))
        (out / 'hf' / 'tokenizer_config.json').write_text(dump(tc))
    elif vd['tokenizer.ggml.model'][0] == b'llama':
        write_spm_tokenizer_json(out / 'hf', vd, tokens, token_types, dump)

    # ---------------- images ----------------
    write_png(out / 'image.png', synth_image(*F['image'], variant=0))
    write_png(out / 'image2.png', synth_image(*F['image2'], variant=1))

    files = ['model.gguf', 'mmproj.gguf', 'image.png', 'image2.png', 'hf/model.safetensors', 'hf/config.json',
             'hf/preprocessor_config.json', 'hf/processor_config.json']
    files += [f for f in ('hf/tokenizer.json', 'hf/tokenizer_config.json') if (out / f).exists()]
    manifest = dict(family=fam, seed=args.seed, generator='scripts/reference/make-random-vlm.py', lm_arch=lm_arch,
                    lm=dict(n_vocab=n_vocab, n_layer=n_layer, n_embd=n_embd, n_head=n_head, n_head_kv=n_head_kv,
                            head_dim=head_dim, n_ff=n_ff, tied=L['tied'], vocab=L['vocab'], **({'sliding_window': L['swa']} if g1 else {})),
                    vision=dict(projector_type=F['proj'], hf_block_count=nl, gguf_block_count=n_blk_gguf, image_size=isz, patch_size=ps,
                                n_embd=d, n_ff=ff, n_head=V['n_head'], eps=V['eps'], image_mean=F['mean'], image_std=F['std'],
                                **({'scale_factor': F['scale_factor'], 'preproc_longest_edge': F['longest_edge']} if fam == 'smolvlm' else {}),
                                **({'pool': F['pool']} if fam == 'gemma3' else {}), tokens_per_image=seq),
                    special_tokens=tok_str, images={'image.png': list(F['image']), 'image2.png': list(F['image2'])},
                    sha256={f: sha256(out / f) for f in files})
    (out / 'manifest.json').write_text(dump(manifest))
    print(f'{out}: family={fam} lm={lm_arch} n_vocab={n_vocab} mmproj={F["proj"]} blocks hf/gguf={nl}/{n_blk_gguf} '
          f'image={F["image"]} tokens/image={seq} model.gguf={manifest["sha256"]["model.gguf"][:12]} '
          f'mmproj.gguf={manifest["sha256"]["mmproj.gguf"][:12]}')


if __name__ == '__main__':
    main()
