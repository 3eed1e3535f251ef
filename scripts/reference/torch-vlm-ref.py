#!/usr/bin/python3
"""Independent PyTorch reference for the vision towers + projectors of the random VLM checkpoints written
by scripts/reference/make-random-vlm.py, following the Hugging Face *definitions* (transformers'
modeling_clip.py / modeling_siglip.py / modeling_llava.py / modeling_idefics3.py / modeling_gemma3.py),
re-implemented here from the documented architecture -- not llama.cpp's graph. Reads the HF folder
(model.safetensors + config.json), computes in float64, writes float32 little-endian embeddings.

Run with Debian's torch (`apt-get install -y python3-torch python3-numpy`), i.e. /usr/bin/python3:
    /usr/bin/python3 scripts/reference/torch-vlm-ref.py --hf DIR/hf --pixels P.f32 --out E.f32
        P.f32: float32 [n, 3, S, S] already preprocessed images (e.g. llama.cpp's own preprocessed tiles
               dumped by mtmd-dump, so that only the encoder + projector are compared); S = image_size
    /usr/bin/python3 scripts/reference/torch-vlm-ref.py --hf DIR/hf --images A.png [B.png] --out E.f32 [--pixels-out P.f32]
        HF preprocessing first (LLaVA / CLIPImageProcessor: shortest-edge resize with PIL bicubic, center
        crop, rescale 1/255, normalize; Gemma 3 / Gemma3ImageProcessor: PIL bilinear resize to size x size
        ignoring the aspect ratio, rescale, normalize)
Output: float32 [n * tokens_per_image, n_embd_text].

Definitions implemented (per family, config.json `model_type`):
  llava   : CLIPVisionEmbeddings -- class token FIRST, then the patches, + learned positions 0..n;
            pre_layrnorm; encoder layers x += attn(ln1(x)); x += fc2(quick_gelu(fc1(ln2(x))));
            features = hidden_states[vision_feature_layer] (-2: the output of the next-to-last layer,
            no post_layernorm); strategy 'default' drops the class token; projector
            linear_2(gelu_erf(linear_1(x))).
  idefics3: SigLIP (patch conv with bias, learned positions, no class token, gelu tanh, post_layernorm
            = last_hidden_state) -> Idefics3 pixel_shuffle(scale_factor) -> modality_projection (no bias).
  gemma3  : SigLIP last_hidden_state -> transpose to [d, h, w] -> AvgPool2d(k = patches_per_side /
            sqrt(mm_tokens_per_image)) -> flatten row-major -> Gemma3RMSNorm (x * rsqrt(mean x^2 + eps) *
            (1 + w), eps = vision layer_norm_eps) -> x @ mm_input_projection_weight.
"""
from __future__ import annotations

import argparse
import json
import math
import struct
from pathlib import Path

import numpy as np
import torch

torch.set_grad_enabled(False)
DT = torch.float64


def load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    raw = path.read_bytes()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        assert info['dtype'] == 'F32', f'{name}: {info["dtype"]}'
        a, b = info['data_offsets']
        arr = np.frombuffer(raw[base + a:base + b], dtype='<f4').reshape(info['shape'])
        out[name] = torch.from_numpy(arr.astype(np.float64))
    return out


def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def act(name: str, x):
    if name == 'quick_gelu':
        return x * torch.sigmoid(1.702 * x)
    if name in ('gelu_pytorch_tanh', 'gelu_new'):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == 'gelu':
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    raise ValueError(name)


def encoder_layer(x, W, p, vc):
    """One CLIP / SigLIP encoder layer (identical structure): pre-LN attention and MLP, both residual."""
    d, nh = vc['hidden_size'], vc['num_attention_heads']
    hd = d // nh
    eps = vc['layer_norm_eps']
    h = layer_norm(x, W[p + 'layer_norm1.weight'], W[p + 'layer_norm1.bias'], eps)
    q = h @ W[p + 'self_attn.q_proj.weight'].T + W[p + 'self_attn.q_proj.bias']
    k = h @ W[p + 'self_attn.k_proj.weight'].T + W[p + 'self_attn.k_proj.bias']
    v = h @ W[p + 'self_attn.v_proj.weight'].T + W[p + 'self_attn.v_proj.bias']
    n = x.shape[0]
    q, k, v = (t.reshape(n, nh, hd).transpose(0, 1) for t in (q, k, v))
    a = torch.softmax((q @ k.transpose(1, 2)) * hd ** -0.5, dim=-1) @ v
    a = a.transpose(0, 1).reshape(n, d)
    x = x + a @ W[p + 'self_attn.out_proj.weight'].T + W[p + 'self_attn.out_proj.bias']
    h = layer_norm(x, W[p + 'layer_norm2.weight'], W[p + 'layer_norm2.bias'], eps)
    h = act(vc['hidden_act'], h @ W[p + 'mlp.fc1.weight'].T + W[p + 'mlp.fc1.bias'])
    return x + h @ W[p + 'mlp.fc2.weight'].T + W[p + 'mlp.fc2.bias']


def patch_embed(img, W, pre, vc):
    """Conv2d(3, d, kernel = stride = patch) as a matmul over non-overlapping patches, row-major patch order."""
    ps = vc['patch_size']
    c, h, w = img.shape
    x = img.reshape(c, h // ps, ps, w // ps, ps).permute(1, 3, 0, 2, 4).reshape((h // ps) * (w // ps), c * ps * ps)
    k = W[pre + 'embeddings.patch_embedding.weight'].reshape(vc['hidden_size'], -1)
    out = x @ k.T
    bias = W.get(pre + 'embeddings.patch_embedding.bias')
    return out + bias if bias is not None else out


def clip_llava(img, W, cfg):
    vc, pre = cfg['vision_config'], 'model.vision_tower.vision_model.'
    x = patch_embed(img, W, pre, vc)
    x = torch.cat([W[pre + 'embeddings.class_embedding'][None, :], x], dim=0)  # class token first
    x = x + W[pre + 'embeddings.position_embedding.weight'][:x.shape[0]]
    x = layer_norm(x, W[pre + 'pre_layrnorm.weight'], W[pre + 'pre_layrnorm.bias'], vc['layer_norm_eps'])
    hidden = [x]  # hidden_states[0] = embeddings after pre_layrnorm
    for i in range(vc['num_hidden_layers']):
        x = encoder_layer(x, W, f'{pre}encoder.layers.{i}.', vc)
        hidden.append(x)
    feat = hidden[cfg['vision_feature_layer']]
    assert cfg['vision_feature_select_strategy'] == 'default'
    feat = feat[1:]  # drop the class token
    P = 'model.multi_modal_projector.'
    h = act(cfg['projector_hidden_act'], feat @ W[P + 'linear_1.weight'].T + W[P + 'linear_1.bias'])
    return h @ W[P + 'linear_2.weight'].T + W[P + 'linear_2.bias']


def clip_llava_as_llamacpp(img, W, cfg):
    """What llama.cpp's graph (tools/mtmd/models/llava.cpp + clip.cpp input fill) computes from the mmproj
    that the legacy converter writes (block_count = num_hidden_layers - 1): the class token is appended
    AFTER the patches, positions 0..n are added in that order (patch i gets position i, the class token
    position n), only block_count - 1 layers run (the last stored block is skipped: the -2 is applied
    twice), rows 1..n are kept (patch 0 dropped, the class token kept as the last image token), and the
    projector uses ggml_gelu (tanh approximation). Used only to document the deviation."""
    vc, pre = cfg['vision_config'], 'model.vision_tower.vision_model.'
    x = patch_embed(img, W, pre, vc)
    x = torch.cat([x, W[pre + 'embeddings.class_embedding'][None, :]], dim=0)
    x = x + W[pre + 'embeddings.position_embedding.weight'][:x.shape[0]]
    x = layer_norm(x, W[pre + 'pre_layrnorm.weight'], W[pre + 'pre_layrnorm.bias'], vc['layer_norm_eps'])
    for i in range(vc['num_hidden_layers'] - 2):
        x = encoder_layer(x, W, f'{pre}encoder.layers.{i}.', vc)
    feat = x[1:]
    P = 'model.multi_modal_projector.'
    h = act('gelu_pytorch_tanh', feat @ W[P + 'linear_1.weight'].T + W[P + 'linear_1.bias'])
    return h @ W[P + 'linear_2.weight'].T + W[P + 'linear_2.bias']


def siglip(img, W, pre, vc):
    x = patch_embed(img, W, pre, vc)
    x = x + W[pre + 'embeddings.position_embedding.weight'][:x.shape[0]]
    for i in range(vc['num_hidden_layers']):
        x = encoder_layer(x, W, f'{pre}encoder.layers.{i}.', vc)
    return layer_norm(x, W[pre + 'post_layernorm.weight'], W[pre + 'post_layernorm.bias'], vc['layer_norm_eps'])


def idefics3(img, W, cfg):
    x = siglip(img, W, 'model.vision_model.', cfg['vision_config'])
    s = cfg['scale_factor']
    seq, d = x.shape
    hgt = wid = int(seq ** 0.5)
    # Idefics3Connector.pixel_shuffle (batch of 1)
    x = x.reshape(1, hgt, wid, d)
    x = x.reshape(1, hgt, wid // s, d * s)
    x = x.permute(0, 2, 1, 3)
    x = x.reshape(1, wid // s, hgt // s, d * s * s)
    x = x.permute(0, 2, 1, 3)
    x = x.reshape(seq // (s * s), d * s * s)
    return x @ W['model.connector.modality_projection.proj.weight'].T


def gemma3(img, W, cfg):
    vc = cfg['vision_config']
    x = siglip(img, W, 'model.vision_tower.vision_model.', vc)
    seq, d = x.shape
    side = int(seq ** 0.5)
    k = side // int(cfg['mm_tokens_per_image'] ** 0.5)
    y = x.T.reshape(1, d, side, side)
    y = torch.nn.functional.avg_pool2d(y, kernel_size=k, stride=k)
    y = y.flatten(2).transpose(1, 2)[0]
    P = 'model.multi_modal_projector.'
    y = y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + vc['layer_norm_eps']) * (1.0 + W[P + 'mm_soft_emb_norm.weight'])
    return y @ W[P + 'mm_input_projection_weight']


def llama_greedy(W, cfg, ids_and_embd, n_predict):
    """HF LlamaForCausalLM definition (rotate-half RoPE, GQA, RMSNorm, SiLU MLP, causal), float64, on a
    prompt given as a list of rows (token id or image embedding vector); pure argmax greedy. Checks the
    LM half of the HF export (q/k un-permutation) independently of llama.cpp."""
    tc = cfg['text_config']
    pre = 'model.text_model.' if cfg['model_type'] == 'idefics3' else 'model.language_model.'
    d, nh, nkv, hd = tc['hidden_size'], tc['num_attention_heads'], tc['num_key_value_heads'], tc['head_dim']
    eps, theta = tc['rms_norm_eps'], tc['rope_theta']
    E = W[pre + 'embed_tokens.weight']

    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

    def rows_to_x(rows):
        return torch.stack([E[r] if isinstance(r, int) else r for r in rows])

    inv = 1.0 / theta ** (torch.arange(0, hd, 2, dtype=DT) / hd)

    def rope(x, pos):  # x [n, heads, hd]
        f = pos[:, None].to(DT) * inv[None, :]
        emb = torch.cat([f, f], -1)
        cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
        x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    rows = list(ids_and_embd)
    out = []
    for _ in range(n_predict):
        x = rows_to_x(rows)
        n = x.shape[0]
        pos = torch.arange(n)
        mask = torch.full((n, n), float('-inf'), dtype=DT).triu(1)
        for i in range(tc['num_hidden_layers']):
            p = f'{pre}layers.{i}.'
            h = rms(x, W[p + 'input_layernorm.weight'])
            q = rope((h @ W[p + 'self_attn.q_proj.weight'].T).reshape(n, nh, hd), pos)
            k = rope((h @ W[p + 'self_attn.k_proj.weight'].T).reshape(n, nkv, hd), pos)
            v = (h @ W[p + 'self_attn.v_proj.weight'].T).reshape(n, nkv, hd)
            k = k.repeat_interleave(nh // nkv, dim=1)
            v = v.repeat_interleave(nh // nkv, dim=1)
            a = torch.softmax((q.transpose(0, 1) @ k.permute(1, 2, 0)) * hd ** -0.5 + mask, -1) @ v.transpose(0, 1)
            x = x + a.transpose(0, 1).reshape(n, nh * hd) @ W[p + 'self_attn.o_proj.weight'].T
            h = rms(x, W[p + 'post_attention_layernorm.weight'])
            g = h @ W[p + 'mlp.gate_proj.weight'].T
            x = x + ((g * torch.sigmoid(g)) * (h @ W[p + 'mlp.up_proj.weight'].T)) @ W[p + 'mlp.down_proj.weight'].T
        logits = rms(x[-1], W[pre + 'norm.weight']) @ W['lm_head.weight'].T
        t = int(torch.argmax(logits))
        out.append(t)
        rows.append(t)
    return out


def gemma3_greedy(W, cfg, rows, groups, n_predict):
    """HF Gemma3ForConditionalGeneration text definition, float64: token embeddings scaled by sqrt(d)
    (image embeddings not), Gemma3RMSNorm (1 + w) around attention and MLP, q/k RMSNorm, rotate-half RoPE
    with rope_local_base_freq on sliding layers and rope_theta on full ones ((i + 1) % 6 == 0), scale
    query_pre_attn_scalar^-1/2, causal mask restricted to the last sliding_window keys on sliding layers,
    OR bidirectional inside one image (token_type_ids mask), gelu(tanh) MLP, tied output. `groups[i]` is the
    image index of row i, or -1 for text."""
    tc = cfg['text_config']
    pre = 'model.language_model.'
    d, nh, nkv, hd = tc['hidden_size'], tc['num_attention_heads'], tc['num_key_value_heads'], tc['head_dim']
    eps, win = tc['rms_norm_eps'], tc['sliding_window']
    E = W[pre + 'embed_tokens.weight']

    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + w)

    def rope(x, pos, theta):
        inv = 1.0 / theta ** (torch.arange(0, hd, 2, dtype=DT) / hd)
        f = pos[:, None].to(DT) * inv[None, :]
        emb = torch.cat([f, f], -1)
        cos, sin = emb.cos()[:, None, :], emb.sin()[:, None, :]
        x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    rows, groups = list(rows), list(groups)
    out = []
    for _ in range(n_predict):
        x = torch.stack([E[r] * math.sqrt(d) if isinstance(r, int) else r for r in rows])
        n = x.shape[0]
        pos = torch.arange(n)
        qi, ki = pos[:, None], pos[None, :]
        g = torch.tensor(groups)
        same_img = (g[:, None] >= 0) & (g[:, None] == g[None, :])
        full = (ki <= qi) | same_img
        slide = ((ki <= qi) & (qi - ki < win)) | same_img
        for i in range(tc['num_hidden_layers']):
            p = f'{pre}layers.{i}.'
            is_full = (i + 1) % 6 == 0
            theta = tc['rope_theta'] if is_full else tc['rope_local_base_freq']
            allowed = full if is_full else slide
            h = rms(x, W[p + 'input_layernorm.weight'])
            q = (h @ W[p + 'self_attn.q_proj.weight'].T).reshape(n, nh, hd)
            k = (h @ W[p + 'self_attn.k_proj.weight'].T).reshape(n, nkv, hd)
            v = (h @ W[p + 'self_attn.v_proj.weight'].T).reshape(n, nkv, hd)
            q = rope(rms(q, W[p + 'self_attn.q_norm.weight']), pos, theta)
            k = rope(rms(k, W[p + 'self_attn.k_norm.weight']), pos, theta)
            k = k.repeat_interleave(nh // nkv, dim=1)
            v = v.repeat_interleave(nh // nkv, dim=1)
            sc = (q.transpose(0, 1) @ k.permute(1, 2, 0)) * tc['query_pre_attn_scalar'] ** -0.5
            sc = sc.masked_fill(~allowed[None], float('-inf'))
            a = (torch.softmax(sc, -1) @ v.transpose(0, 1)).transpose(0, 1).reshape(n, nh * hd)
            x = x + rms(a @ W[p + 'self_attn.o_proj.weight'].T, W[p + 'post_attention_layernorm.weight'])
            h = rms(x, W[p + 'pre_feedforward_layernorm.weight'])
            m = act('gelu_pytorch_tanh', h @ W[p + 'mlp.gate_proj.weight'].T) * (h @ W[p + 'mlp.up_proj.weight'].T)
            x = x + rms(m @ W[p + 'mlp.down_proj.weight'].T, W[p + 'post_feedforward_layernorm.weight'])
        logits = rms(x[-1], W[pre + 'norm.weight']) @ E.T
        t = int(torch.argmax(logits))
        out.append(t)
        rows.append(t)
        groups.append(-1)
    return out


def hf_preprocess_clip(png: Path, pre: dict) -> np.ndarray:
    """CLIPImageProcessor: RGB, resize shortest edge (PIL, resample from config), center crop, rescale, normalize."""
    from PIL import Image
    im = Image.open(png).convert('RGB')
    w, h = im.size
    se = pre['size']['shortest_edge']
    if w <= h:
        nw, nh = se, int(se * h / w)
    else:
        nh, nw = se, int(se * w / h)
    if (nw, nh) != (w, h):
        im = im.resize((nw, nh), resample=pre['resample'])
    ch, cw = pre['crop_size']['height'], pre['crop_size']['width']
    top, left = (nh - ch) // 2, (nw - cw) // 2
    a = np.asarray(im, dtype=np.float64)[top:top + ch, left:left + cw] * pre['rescale_factor']
    a = (a - np.array(pre['image_mean'])) / np.array(pre['image_std'])
    return a.transpose(2, 0, 1).astype(np.float32)


def hf_preprocess_gemma3(png: Path, pre: dict) -> np.ndarray:
    """Gemma3ImageProcessor without pan-and-scan: RGB, resize to size (PIL, resample from config, aspect
    ratio NOT kept), rescale, normalize."""
    from PIL import Image
    im = Image.open(png).convert('RGB')
    size = (pre['size']['width'], pre['size']['height'])
    if im.size != size:
        im = im.resize(size, resample=pre['resample'])
    a = np.asarray(im, dtype=np.float64) * pre['rescale_factor']
    a = (a - np.array(pre['image_mean'])) / np.array(pre['image_std'])
    return a.transpose(2, 0, 1).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--hf', required=True)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument('--pixels', help='float32 [n, 3, S, S] preprocessed images')
    g.add_argument('--lm-greedy', metavar='META_SCENARIO', help='META.json:SCENARIO -- HF LM greedy on that prompt (llama: smolvlm, llava; gemma3)')
    ap.add_argument('--embd', help='with --lm-greedy: float32 [n_image_tokens, n_embd] image embeddings')
    ap.add_argument('-n', type=int, default=16)
    g.add_argument('--images', nargs='+', help='PNG files, HF-preprocessed here (llava, gemma3)')
    ap.add_argument('--pixels-out')
    ap.add_argument('--emulate-llamacpp', action='store_true', help='llava: compute what llama.cpp computes (deviation check)')
    ap.add_argument('--out', required=True, help='embeddings (float32) or, with --lm-greedy, a JSON list of token ids')
    args = ap.parse_args()

    hf = Path(args.hf)
    cfg = json.loads((hf / 'config.json').read_text())
    pre = json.loads((hf / 'preprocessor_config.json').read_text())
    W = load_safetensors(hf / 'model.safetensors')
    S = cfg['vision_config']['image_size']
    if args.lm_greedy:
        mpath, scen = args.lm_greedy.rsplit(':', 1)
        sc = json.loads(Path(mpath).read_text())['scenarios'][scen]
        emb = torch.from_numpy(np.fromfile(args.embd, dtype='<f4').astype(np.float64).reshape(sc['n_image_tokens'], -1))
        rows, groups, r, gi = [], [], 0, 0
        for c in sc['chunks']:
            if c['type'] == 'text':
                rows += c['tokens']
                groups += [-1] * len(c['tokens'])
            else:
                rows += [emb[r + k] for k in range(c['n_tokens'])]
                groups += [gi] * c['n_tokens']
                r += c['n_tokens']
                gi += 1
        if cfg['model_type'] == 'gemma3':
            toks = gemma3_greedy(W, cfg, rows, groups, args.n)
        else:
            toks = llama_greedy(W, cfg, rows, args.n)
        Path(args.out).write_text(json.dumps(toks) + '\n')
        print(f'{args.out}: {toks}')
        return
    if args.pixels:
        pix = np.fromfile(args.pixels, dtype='<f4')
        assert pix.size % (3 * S * S) == 0, f'{args.pixels}: not a multiple of 3x{S}x{S}'
        pix = pix.reshape(-1, 3, S, S)
    else:
        prep = {'llava': hf_preprocess_clip, 'gemma3': hf_preprocess_gemma3}.get(cfg['model_type'])
        assert prep, 'HF preprocessing is implemented for llava and gemma3 only (idefics3: llama.cpp matches PIL exactly)'
        pix = np.stack([prep(Path(p), pre) for p in args.images])
        if args.pixels_out:
            pix.astype('<f4').tofile(args.pixels_out)
    fn = {'llava': clip_llava_as_llamacpp if args.emulate_llamacpp else clip_llava, 'idefics3': idefics3, 'gemma3': gemma3}[cfg['model_type']]
    outs = [fn(torch.from_numpy(p.astype(np.float64)), W, cfg) for p in pix]
    emb = torch.cat(outs, 0).numpy().astype('<f4')
    emb.tofile(args.out)
    print(f'{args.out}: {cfg["model_type"]} images={len(pix)} embd={list(emb.shape)}')


if __name__ == '__main__':
    main()
