#!/usr/bin/python3
"""Golden outputs of Pillow's resampler for tests/vision/resize.test.ts (SynFlux reference tooling).

llama.cpp's mtmd resizes images with a port of Pillow's libImaging/Resample.c (tools/mtmd/mtmd-image.cpp
`resize_pillow`), and Hugging Face image processors resize through Pillow too; src/preprocess/resize.ts
reimplements that resampler. This script writes what Pillow itself produces, so the test compares our
integers against the original library rather than against llama.cpp's port.

Run once with Debian's Pillow (`apt-get install -y python3-pil`), i.e. /usr/bin/python3:
    /usr/bin/python3 scripts/reference/pillow-resize-golden.py tests/fixtures/vision
Writes OUT/pillow-resize.json (Pillow version, input size, cases) and OUT/pillow-resize.bin
(the 53x37 RGB input, then every case's RGB output, uint8 row-major, in the order of the cases).
The input is synthetic and deterministic (gradients, a checkerboard and an LCG-noise band).
"""
import json
import sys
from pathlib import Path

import PIL
from PIL import Image

W, H = 53, 37
CASES = [  # (filter name, Pillow constant, out w, out h)
    (name, const, w, h)
    for name, const in (('bilinear', Image.BILINEAR), ('bicubic', Image.BICUBIC), ('lanczos', Image.LANCZOS))
    for (w, h) in ((20, 14), (80, 50), (53, 20), (30, 37), (7, 61))
]


def synth() -> bytes:
    out = bytearray()
    seed = 12345
    for y in range(H):
        for x in range(W):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            if 14 <= y < 22:
                px = (seed >> 8) & 255, (seed >> 16) & 255, (seed >> 3) & 255
            elif ((x // 4) + (y // 4)) % 2 == 0 and y > 26:
                px = 250, 10, 128
            else:
                px = (x * 255) // (W - 1), (y * 255) // (H - 1), ((x + y) * 7) % 256
            out += bytes(px)
    return bytes(out)


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    src = synth()
    im = Image.frombytes('RGB', (W, H), src)
    blob = bytearray(src)
    cases = []
    for name, const, w, h in CASES:
        r = im.resize((w, h), resample=const)
        data = r.tobytes()
        assert len(data) == w * h * 3
        cases.append({'filter': name, 'width': w, 'height': h, 'offset': len(blob)})
        blob += data
    (out / 'pillow-resize.bin').write_bytes(bytes(blob))
    meta = {'pillow': PIL.__version__, 'generator': 'scripts/reference/pillow-resize-golden.py', 'input': {'width': W, 'height': H, 'offset': 0},
            'cases': cases}
    (out / 'pillow-resize.json').write_text(json.dumps(meta, indent=1) + '\n')
    print(f'wrote {len(blob)} bytes, {len(cases)} cases, Pillow {PIL.__version__}')


if __name__ == '__main__':
    main()
