#!/usr/bin/env python3
"""Golden outputs for the random VLM checkpoints (called by scripts/reference/vlm-goldens.sh, which builds
.cache/vlm/bin/mtmd-dump first). For each family:

  1. regenerates the checkpoint with scripts/reference/make-random-vlm.py into .cache/vlm/<family>
  2. runs mtmd-dump (llama.cpp mtmd: chunk layout, image embeddings, preprocessed pixels, 16 greedy tokens,
     flash attention off, F32 K/V) for every scenario below
  3. runs the PyTorch reference (scripts/reference/torch-vlm-ref.py, /usr/bin/python3):
       smolvlm, gemma3: on llama.cpp's own preprocessed tiles -> an independent check of encoder + projector
       llava: HF preprocessing + HF definition (class token first, vision_feature_layer -2, ...) -> THE golden
              embeddings; greedy tokens for them come from llama.cpp's LM fed those embeddings
              (mtmd-dump --embd-override), since llama.cpp's CLIP graph deviates (docs/vlm-references.md)
  4. cross-checks the greedy text with `llama-mtmd-cli ... -n 16 --temp 0 -fa off -ctk f32 -ctv f32`
  5. writes tests/fixtures/vlm/<family>/meta.json, embd.f32 (scenario "image"), <scenario>.embd.f32,
     <scenario>.torch-embd.f32, <scenario>.pixels.u8 (llama.cpp's preprocessed tiles as RGB8 HWC, exact
     inverse of its normalisation), each file < 200 KB.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
LLAMA = ROOT / '.cache' / 'llama.cpp'
WORK = ROOT / '.cache' / 'vlm'
DUMP = WORK / 'bin' / 'mtmd-dump'
CLI = LLAMA / 'build' / 'bin' / 'llama-mtmd-cli'
TORCH_PY = '/usr/bin/python3'
SEED = 1
N_PREDICT = 16
PASSTHROUGH_TEMPLATE = '{%- for message in messages -%}{{- message.content -}}{%- endfor -%}'

PROMPT = 'Question: <__media__> What is shown in this picture?\nAnswer:'
SCENARIOS = [
    ('image', ['image.png'], PROMPT),
    ('image2', ['image2.png'], PROMPT),
    ('two-images', ['image.png', 'image2.png'], 'First: <__media__>\nSecond: <__media__>\nWhat changed?'),
    ('no-marker', ['image.png'], 'What is shown in this picture?'),
]
MAX_FILE = 200 * 1024


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, errors='replace', **kw)


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a.astype(np.float64) - b) / np.linalg.norm(b.astype(np.float64)))


def write(path: Path, arr: np.ndarray) -> str:
    data = arr.tobytes()
    assert len(data) < MAX_FILE, f'{path}: {len(data)} bytes'
    path.write_bytes(data)
    return path.name


def hf_pixels(out: Path, name: str, pre: str, size: int, mean: np.ndarray, std: np.ndarray, entry: dict, how: str) -> None:
    """Sets entry's hf_pixels_file/hf_pixels_how from torch-vlm-ref.py's `<pre>.hfpix.f32` (3×size×size,
    normalized) as RGB8 HWC; the file is written unless it equals llama.cpp's (then points at pixels_file)."""
    hp = np.fromfile(pre + '.hfpix.f32', dtype='<f4').reshape(3, size, size).astype(np.float64)
    u = (hp * std + mean) * 255.0
    r = np.rint(u)
    assert np.abs(u - r).max() < 2e-3, 'HF pixels are not normalized u8'
    u8 = r.astype(np.uint8).transpose(1, 2, 0).reshape(-1)
    p = entry.get('pixels_file')
    entry['hf_pixels_file'] = p if p and (out / p).read_bytes() == u8.tobytes() else write(out / f'{name}.hf-pixels.u8', u8)
    entry['hf_pixels_how'] = how


def hf_greedy(args: list[str], pre: str, embd_path: str, how: str) -> dict:
    """Greedy decode of llama.cpp's LM (mtmd-dump --embd-override) fed the image embeddings at embd_path."""
    args_hf = [a if a != pre else pre + '.hf' for a in args]
    d2 = json.loads(sh(args_hf + ['--embd-override', embd_path]).stdout)
    return {**{k: d2[k] for k in ('greedy', 'greedy_pieces', 'greedy_text', 'margins', 'top5_step0')}, 'how': how}


def llama_cpp_commit() -> dict:
    c = sh(['git', '-C', str(LLAMA), 'log', '-1', '--format=%H %s']).stdout.strip()
    h, s = c.split(' ', 1)
    return {'bundle_commit': h, 'subject': s, 'source': 'node-llama-cpp 3.22.1 llama/gitRelease.bundle (llama.cpp v0.5.0)'}


def run_family(fam: str) -> None:
    ck = WORK / fam
    sh([sys.executable, str(ROOT / 'scripts/reference/make-random-vlm.py'), '--family', fam, '--out', str(ck), '--seed', str(SEED)])
    man = json.loads((ck / 'manifest.json').read_text())
    out = ROOT / 'tests' / 'fixtures' / 'vlm' / fam
    out.mkdir(parents=True, exist_ok=True)
    tmp = WORK / 'tmp' / fam
    tmp.mkdir(parents=True, exist_ok=True)
    mean = np.array(man['vision']['image_mean'], dtype=np.float64)[:, None, None]
    std = np.array(man['vision']['image_std'], dtype=np.float64)[:, None, None]
    n_embd = man['lm']['n_embd']

    scen_meta = {}
    for name, imgs, prompt in SCENARIOS:
        paths = [str(ck / i) for i in imgs]
        pre = str(tmp / name)
        args = [str(DUMP), '-m', str(ck / 'model.gguf'), '--mmproj', str(ck / 'mmproj.gguf'), '-p', prompt, '-n', str(N_PREDICT), '-t', '2',
                '--out-prefix', pre]
        for p in paths:
            args += ['--image', p]
        d = json.loads(sh(args).stdout)
        embd = np.fromfile(pre + '.embd.f32', dtype='<f4')
        assert embd.size == d['n_image_tokens'] * n_embd
        pix = np.fromfile(pre + '.pixels.f32', dtype='<f4')
        d['images'] = imgs
        d.pop('embd_override')
        entry = {k: d[k] for k in ('prompt', 'prompt_tokenized', 'images', 'add_bos', 'chunks', 'n_prompt_pos', 'n_image_tokens')}
        entry['llamacpp'] = {k: d[k] for k in ('greedy', 'greedy_pieces', 'greedy_text', 'margins', 'top5_step0')}
        entry['embd_file'] = write(out / ('embd.f32' if name == 'image' else f'{name}.embd.f32'), embd)
        entry['embd_shape'] = [d['n_image_tokens'], n_embd]

        # llama.cpp's preprocessed tiles as RGB8 (only single-image scenarios; exact inverse of normalize)
        if len(imgs) == 1 and name != 'no-marker':  # no-marker reuses image.png: same tiles as scenario 'image'
            tiles, off = [], 0
            for c in d['chunks']:
                for e in c.get('encodes', []):
                    ch, hh, ww = e['shape_chw']
                    t = pix[off:off + ch * hh * ww].reshape(ch, hh, ww).astype(np.float64)
                    off += ch * hh * ww
                    u = (t * std + mean) * 255.0
                    r = np.rint(u)
                    assert np.abs(u - r).max() < 2e-3 and r.min() >= 0 and r.max() <= 255, 'pixels are not normalized u8'
                    tiles.append(r.astype(np.uint8).transpose(1, 2, 0))
            assert off == pix.size
            entry['pixels_file'] = write(out / f'{name}.pixels.u8', np.concatenate([t.reshape(-1) for t in tiles]))
            entry['pixels_layout'] = 'RGB8 HWC per encoded tile, tiles in encode (= image chunk) order; float input = (u8/255 - mean)/std'

        # PyTorch reference
        tref = pre + '.torch.f32'
        if fam == 'llava':
            sh([TORCH_PY, str(ROOT / 'scripts/reference/torch-vlm-ref.py'), '--hf', str(ck / 'hf'), '--images', *paths, '--out', tref,
                '--pixels-out', pre + '.hfpix.f32'])
            emu = pre + '.emu.f32'
            sh([TORCH_PY, str(ROOT / 'scripts/reference/torch-vlm-ref.py'), '--hf', str(ck / 'hf'), '--pixels', pre + '.pixels.f32',
                '--out', emu, '--emulate-llamacpp'])
            torch_e = np.fromfile(tref, dtype='<f4')
            entry['torch_embd_file'] = write(out / f'{name}.torch-embd.f32', torch_e)
            if len(imgs) == 1 and name != 'no-marker':
                hf_pixels(out, name, pre, man['vision']['image_size'], mean, std, entry,
                          'CLIPImageProcessor: shortest-edge resize (identity here) + center crop, RGB8 HWC')
            entry['llamacpp_vs_torch_rel_err'] = rel_err(embd, torch_e)
            entry['llamacpp_vs_emulated_deviation_rel_err'] = rel_err(embd, np.fromfile(emu, dtype='<f4'))
            # greedy from llama.cpp's LM fed the HF-definition embeddings
            entry['hf'] = hf_greedy(args, pre, tref,
                                    'image embeddings = torch-embd (HF preprocessing + HF LLaVA definition); text/LM = llama.cpp (mtmd-dump --embd-override)')
        else:
            if fam == 'gemma3':
                # HF path too: Gemma3ImageProcessor resizes without keeping the aspect ratio, llama.cpp letterboxes
                thf = pre + '.torch-hf.f32'
                sh([TORCH_PY, str(ROOT / 'scripts/reference/torch-vlm-ref.py'), '--hf', str(ck / 'hf'), '--images', *paths, '--out', thf,
                    '--pixels-out', pre + '.hfpix.f32'])
                the = np.fromfile(thf, dtype='<f4')
                entry['hf_torch_embd_file'] = write(out / f'{name}.hf-torch-embd.f32', the)
                if len(imgs) == 1 and name != 'no-marker':
                    hf_pixels(out, name, pre, man['vision']['image_size'], mean, std, entry,
                              'Gemma3ImageProcessor: PIL bilinear resize to 224x224 (aspect ratio not kept), RGB8 HWC')
                entry['hf'] = hf_greedy(args, pre, thf,
                                        'image embeddings = hf-torch-embd (HF preprocessing + HF definition); text/LM = llama.cpp (mtmd-dump --embd-override)')
            sh([TORCH_PY, str(ROOT / 'scripts/reference/torch-vlm-ref.py'), '--hf', str(ck / 'hf'), '--pixels', pre + '.pixels.f32', '--out', tref])
            torch_e = np.fromfile(tref, dtype='<f4')
            entry['torch_embd_file'] = write(out / f'{name}.torch-embd.f32', torch_e)
            entry['torch_input'] = "llama.cpp's preprocessed tiles (pixels_file), so this compares encoder + projector only"
            entry['llamacpp_vs_torch_rel_err'] = rel_err(embd, torch_e)

        # llama-mtmd-cli cross-check (its own prompt path: chat template pass-through, add_bos on first message)
        cli = [str(CLI), '-m', str(ck / 'model.gguf'), '--mmproj', str(ck / 'mmproj.gguf'), '-p', prompt, '-n', str(N_PREDICT),
               '--temp', '0', '-fa', 'off', '-ctk', 'f32', '-ctv', 'f32', '-c', '512', '-b', '512', '-ub', '512', '-t', '2',
               '--jinja', '--chat-template', PASSTHROUGH_TEMPLATE, '--seed', '1']
        for p in paths:
            cli += ['--image', p]
        r = subprocess.run(cli, check=True, capture_output=True)
        cli_bytes = r.stdout.rstrip(b'\n')
        cli_text = cli_bytes.decode('utf-8', errors='replace')
        ours = Path(pre + '.text').read_bytes()
        entry['llama_mtmd_cli'] = {
            'command': ' '.join(['llama-mtmd-cli'] + [a if ' ' not in a and '\n' not in a else json.dumps(a) for a in cli[1:]]),
            'stdout': cli_text,
            'matches_greedy_text': cli_bytes.strip() == ours.strip(),
        }
        scen_meta[name] = entry
        print(f'[{fam}] {name}: image tokens {d["n_image_tokens"]}, llama.cpp vs torch rel {entry["llamacpp_vs_torch_rel_err"]:.3g}, '
              f'cli match {entry["llama_mtmd_cli"]["matches_greedy_text"]}', flush=True)

    # HF LM in torch: the prompt rows from the chunk layout + the reference image embeddings -> greedy;
    # checks the LM half of the HF export (and, for Gemma 3, the bidirectional image attention)
    # independently of llama.cpp
    mtmp = tmp / 'meta-partial.json'
    mtmp.write_text(json.dumps({'scenarios': scen_meta}))
    for name, entry in scen_meta.items():
        if fam == 'llava':
            checks = [('torch_lm', entry['torch_embd_file'], entry['hf']['greedy'])]
        else:
            checks = [('torch_lm', entry['embd_file'], entry['llamacpp']['greedy'])]
        if fam == 'gemma3':
            checks.append(('torch_lm_hf_path', entry['hf_torch_embd_file'], entry['hf']['greedy']))
        for key, ref_file, ref_greedy in checks:
            o = tmp / f'{name}.{key}.json'
            sh([TORCH_PY, str(ROOT / 'scripts/reference/torch-vlm-ref.py'), '--hf', str(ck / 'hf'), '--lm-greedy', f'{mtmp}:{name}',
                '--embd', str(out / ref_file), '-n', str(N_PREDICT), '--out', str(o)])
            toks = json.loads(o.read_text())
            arch = 'Gemma3ForConditionalGeneration text' if fam == 'gemma3' else 'LlamaForCausalLM'
            entry[key] = {'greedy': toks, 'matches': toks[:len(ref_greedy)] == ref_greedy,
                          'how': f'HF {arch} definition in torch (float64) from hf/model.safetensors on {ref_file}'}
            print(f'[{fam}] {name}: torch HF LM greedy ({key}) matches {entry[key]["matches"]}', flush=True)

    meta = {
        'family': fam,
        'generator': f'python3 scripts/reference/make-random-vlm.py --family {fam} --out DIR --seed {SEED}',
        'goldens': 'scripts/reference/vlm-goldens.sh (see docs/vlm-references.md)',
        'llama_cpp': llama_cpp_commit(),
        'sha256': man['sha256'],
        'lm': man['lm'], 'vision': man['vision'], 'special_tokens': man['special_tokens'], 'image_sizes': man['images'],
        'decode_settings': {'n_ctx': 512, 'n_batch': 512, 'flash_attn': False, 'kv_type': 'f32', 'sampler': 'argmax (lowest id on ties)',
                            'n_predict': N_PREDICT, 'add_special': True, 'parse_special': True},
        'compare': {'embd_rel_err_max': 1e-3, 'rel_err': '||ours - ref||_2 / ||ref||_2 over the whole [n_tokens, n_embd] array',
                    'greedy': 'token-identical', 'reference': 'torch' if fam == 'llava' else 'llamacpp'},
        'scenarios': scen_meta,
    }
    (out / 'meta.json').write_text(json.dumps(meta, indent=1, ensure_ascii=False) + '\n')
    print(f'[{fam}] wrote {out}')


def main() -> None:
    fams = sys.argv[1:] or ['smolvlm', 'llava', 'gemma3']
    for f in fams:
        run_family(f)


if __name__ == '__main__':
    main()
