#!/usr/bin/env python3
"""Reference (de)quantization with llama.cpp's gguf-py (numpy), for tests/ops/quant.test.ts.

stdin:  {"gguf_py": "<dir of the gguf package>", "ops": [{"op": "dequantize"|"quantize", "type": <ggml id>,
          "data": "<base64: raw blocks for dequantize, float32 for quantize>"}]}
stdout: {"results": ["<base64 float32 | raw blocks>" or null when gguf-py has no such quantizer]}
Exit code 3 when numpy or gguf-py cannot be imported (the test then skips with the message).
"""
import base64
import json
import sys

req = json.load(sys.stdin)
try:
    import numpy as np
    sys.path.insert(0, req["gguf_py"])
    from gguf import quants
    from gguf.constants import GGMLQuantizationType
except Exception as e:  # noqa: BLE001
    print(f"cannot import numpy/gguf-py: {e}", file=sys.stderr)
    sys.exit(3)

out = []
for op in req["ops"]:
    raw = base64.b64decode(op["data"])
    qt = GGMLQuantizationType(op["type"])
    try:
        if op["op"] == "dequantize":
            arr = np.frombuffer(raw, dtype=np.uint8)
            res = quants.dequantize(arr, qt).astype(np.float32).tobytes()
        else:
            arr = np.frombuffer(raw, dtype=np.float32)
            res = quants.quantize(arr, qt)
            if qt == GGMLQuantizationType.F16:
                res = res.astype(np.float16)
            res = np.ascontiguousarray(res).tobytes()
        out.append(base64.b64encode(res).decode())
    except NotImplementedError:
        out.append(None)
json.dump({"results": out}, sys.stdout)
