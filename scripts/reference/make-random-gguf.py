#!/usr/bin/env python3
"""Write a small random-weight F32 GGUF checkpoint that llama.cpp loads and runs.

The checkpoints are the architecture fixtures of SynFlux: tiny dims (fast, a few tens of MB at
most) but the *full* real tokenizer of the family, copied key by key (every `tokenizer.*` key)
from llama.cpp's `models/ggml-vocab-*.gguf`. All tensors are F32 so an exact-F32 engine can be
compared with llama.cpp run with flash attention off and an F32 K/V cache (see
shared/design/REFERENCES.md, "Matching llama.cpp numerically").

Usage:
    python3 scripts/reference/make-random-gguf.py --arch llama --out .cache/random/llama.gguf [--seed 1]
        [--llama-cpp .cache/llama.cpp] [--tied | --untied]

Needs llama.cpp's gguf-py (found under --llama-cpp) and, at runtime, numpy and pyyaml
(`gguf/__init__.py` imports `gguf.metadata`, which imports yaml at module level):
    python3 -m pip install numpy==2.2.6 pyyaml==6.0.3

Per architecture (what llama.cpp's load_hparams / load_arch_tensors read, src/llama-model.cpp and
src/models/<arch>.cpp of the bundled source):
    llama  : GPT-2 BPE vocab (50257 tokens), NORM RoPE, GQA 4/2, head_dim 16, separate output.weight
    qwen2  : Qwen2 BPE vocab (151936), NEOX RoPE, q/k/v biases, n_embd 32 = 4 heads x 8, separate output
    qwen3  : Qwen2 BPE vocab (151936), NEOX RoPE, attn_q_norm/attn_k_norm, n_embd 32 but
             n_head*head_dim = 64 (like real Qwen3, q width != n_embd), tied output
    gemma3 : SentencePiece vocab (llama-spm, 32000; real Gemma 3 also uses the SPM "llama"
             tokenizer model), 8 layers, sliding window 8, no pattern key (llama.cpp then uses 6:
             layers 0-4 and 6-7 local, layer 5 global), rope.freq_base 1e6 / freq_base_swa 1e4,
             head_dim 32 (q width 128 != n_embd 64), q/k norms, post-attention and post-FFN norms,
             tied output. Norm weights are stored as GGUF stores Gemma's (the +1 already added).

Weights: linear layers N(0, 1/fan_in) (activations stay O(1)), norm weights 1 + N(0, 0.1^2),
qwen2 biases N(0, 0.5^2). Tied models (qwen3, gemma3) get a zero-mean random output_norm: with
tied embeddings the logit of the current token contains e_t . e_t, and greedy decoding otherwise
locks onto one repeated token. Logit std over the vocab is about 2-3 for every arch, and 24-token
greedy runs produce 10-23 distinct tokens. Deterministic for a given seed and numpy version.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# emb: per-element std of the token embeddings as they enter layer 0 (Gemma's sqrt(n_embd) scale
# included). With a tied output a large embedding lets each token's own embedding dominate the
# residual stream, and greedy decoding just repeats the last token; a small one plus a larger
# output_norm gain (out_norm) keeps the logit spread at about 2 (std over the vocab).
ARCHS = {
    'llama':  dict(vocab='ggml-vocab-gpt-2.gguf',     n_layer=4, n_embd=64, n_head=4, n_head_kv=2, head_dim=16, n_ff=128, tied=False, emb=1.0, out_norm=1.0),
    'qwen2':  dict(vocab='ggml-vocab-qwen2.gguf',     n_layer=3, n_embd=32, n_head=4, n_head_kv=2, head_dim=8,  n_ff=96,  tied=False, emb=1.0, out_norm=1.0),
    'qwen3':  dict(vocab='ggml-vocab-qwen2.gguf',     n_layer=3, n_embd=32, n_head=4, n_head_kv=2, head_dim=16, n_ff=96,  tied=True,  emb=1.0, out_norm=-0.5),
    'gemma3': dict(vocab='ggml-vocab-llama-spm.gguf', n_layer=8, n_embd=64, n_head=4, n_head_kv=2, head_dim=32, n_ff=128, tied=True,  emb=1.0, out_norm=-2.5),
}
N_CTX = 256
GEMMA3_SWA = 8


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--arch', required=True, choices=sorted(ARCHS))
    p.add_argument('--out', required=True, help='output .gguf path (parent folders are created)')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--llama-cpp', default=os.environ.get('LLAMA_CPP_DIR', str(ROOT / '.cache' / 'llama.cpp')),
                   help='llama.cpp source tree (for gguf-py and models/ggml-vocab-*.gguf)')
    g = p.add_mutually_exclusive_group()
    g.add_argument('--tied', dest='tied', action='store_true', default=None, help='force tied output (no output.weight)')
    g.add_argument('--untied', dest='tied', action='store_false', help='force a separate output.weight')
    return p.parse_args()


def copy_tokenizer(gguf, writer, vocab_path: Path) -> int:
    """Copies every tokenizer.* key of a llama.cpp vocab file, byte for byte; returns the vocab size."""
    r = gguf.GGUFReader(str(vocab_path))
    n_vocab = None
    for key, f in r.fields.items():
        if not key.startswith('tokenizer.'):
            continue
        main = f.types[0]
        if main == gguf.GGUFValueType.ARRAY:
            sub = f.types[-1]
            if sub == gguf.GGUFValueType.STRING:
                val = [bytes(f.parts[i]) for i in f.data]  # raw bytes: no utf-8 round trip
            else:
                val = [f.parts[i].tolist()[0] for i in f.data]
            writer.add_key_value(key, val, main, sub)
            if key == 'tokenizer.ggml.tokens':
                n_vocab = len(val)
        elif main == gguf.GGUFValueType.STRING:
            writer.add_key_value(key, bytes(f.parts[-1]), main)
        else:
            writer.add_key_value(key, f.parts[-1].tolist()[0], main)
    if n_vocab is None:
        raise SystemExit(f'{vocab_path}: no tokenizer.ggml.tokens')
    return n_vocab


def main() -> None:
    args = parse_args()
    llama_cpp = Path(args.llama_cpp)
    sys.path.insert(0, str(llama_cpp / 'gguf-py'))
    import numpy as np
    import gguf

    cfg = dict(ARCHS[args.arch])
    if args.tied is not None:
        cfg['tied'] = args.tied
    arch = args.arch
    n_layer, n_embd, n_head, n_head_kv, head_dim, n_ff = (cfg[k] for k in ('n_layer', 'n_embd', 'n_head', 'n_head_kv', 'head_dim', 'n_ff'))
    n_q, n_kv = n_head * head_dim, n_head_kv * head_dim
    if arch in ('llama', 'qwen2'):
        assert n_q == n_embd, f'{arch}: llama.cpp needs n_head*head_dim == n_embd'

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f'{out.name}.{os.getpid()}.partial')
    w = gguf.GGUFWriter(str(tmp), arch)
    w.add_name(f'synflux-random-{arch}-seed{args.seed}')
    w.add_description('Random-weight F32 test checkpoint written by SynFlux scripts/reference/make-random-gguf.py')
    w.add_file_type(gguf.LlamaFileType.ALL_F32)

    n_vocab = copy_tokenizer(gguf, w, llama_cpp / 'models' / cfg['vocab'])

    w.add_context_length(N_CTX)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    if arch == 'llama':
        w.add_vocab_size(n_vocab)
        w.add_rope_dimension_count(head_dim)
        w.add_rope_freq_base(10000.0)
        w.add_layer_norm_rms_eps(1e-5)
    elif arch in ('qwen2', 'qwen3'):
        w.add_rope_freq_base(1000000.0)
        w.add_layer_norm_rms_eps(1e-6)
        if arch == 'qwen3':
            w.add_key_length(head_dim)
            w.add_value_length(head_dim)
    elif arch == 'gemma3':
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
        w.add_rope_freq_base(1000000.0)
        w.add_rope_freq_base_swa(10000.0)
        w.add_sliding_window(GEMMA3_SWA)
        w.add_layer_norm_rms_eps(1e-6)

    rng = np.random.default_rng(args.seed)

    def normal(shape, std):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std)).astype(np.float32)

    def linear(n_out, n_in, gain=1.0):
        # numpy shape (out, in) == ggml ne {in, out}; std 1/sqrt(fan_in) keeps activations O(1)
        return normal((n_out, n_in), gain / np.sqrt(n_in))

    def norm_w(n, scale=1.0):
        return (scale * (1.0 + normal((n,), 0.1))).astype(np.float32)

    # Gemma scales embeddings by sqrt(n_embd) in the graph, so divide here.
    emb_std = cfg['emb'] / np.sqrt(n_embd) if arch == 'gemma3' else cfg['emb']
    w.add_tensor('token_embd.weight', normal((n_vocab, n_embd), emb_std))
    for i in range(n_layer):
        p = f'blk.{i}.'
        w.add_tensor(p + 'attn_norm.weight', norm_w(n_embd))
        w.add_tensor(p + 'attn_q.weight', linear(n_q, n_embd))
        w.add_tensor(p + 'attn_k.weight', linear(n_kv, n_embd))
        w.add_tensor(p + 'attn_v.weight', linear(n_kv, n_embd))
        if arch == 'qwen2':
            w.add_tensor(p + 'attn_q.bias', normal((n_q,), 0.5))
            w.add_tensor(p + 'attn_k.bias', normal((n_kv,), 0.5))
            w.add_tensor(p + 'attn_v.bias', normal((n_kv,), 0.5))
        if arch in ('qwen3', 'gemma3'):
            w.add_tensor(p + 'attn_q_norm.weight', norm_w(head_dim))
            w.add_tensor(p + 'attn_k_norm.weight', norm_w(head_dim))
        w.add_tensor(p + 'attn_output.weight', linear(n_embd, n_q))
        if arch == 'gemma3':
            w.add_tensor(p + 'post_attention_norm.weight', norm_w(n_embd))
        w.add_tensor(p + 'ffn_norm.weight', norm_w(n_embd))
        w.add_tensor(p + 'ffn_gate.weight', linear(n_ff, n_embd))
        w.add_tensor(p + 'ffn_up.weight', linear(n_ff, n_embd))
        w.add_tensor(p + 'ffn_down.weight', linear(n_embd, n_ff, cfg.get('ffn', 1.0)))
        if arch == 'gemma3':
            w.add_tensor(p + 'post_ffw_norm.weight', norm_w(n_embd))
    if cfg['out_norm'] < 0:  # zero-mean output norm: cancels the tied self-logit e_t . e_t
        w.add_tensor('output_norm.weight', normal((n_embd,), -cfg['out_norm']))
    else:
        w.add_tensor('output_norm.weight', norm_w(n_embd, cfg['out_norm']))
    if not cfg['tied']:
        w.add_tensor('output.weight', linear(n_vocab, n_embd, gain=2.0))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file(progress=False)
    w.close()
    os.replace(tmp, out)
    print(f'{out}: arch={arch} vocab={cfg["vocab"]} n_vocab={n_vocab} n_layer={n_layer} n_embd={n_embd} '
          f'heads={n_head}/{n_head_kv}x{head_dim} n_ff={n_ff} tied={cfg["tied"]} seed={args.seed} '
          f'bytes={out.stat().st_size}')


if __name__ == '__main__':
    main()
