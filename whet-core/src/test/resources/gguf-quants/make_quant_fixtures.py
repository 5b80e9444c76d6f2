"""Q4_K and Q6_K dequantisation fixtures from an independent numpy implementation of ggml's block
layouts, written from the struct definitions (ggml-common.h: block_q4_K, block_q6_K) rather than
from the reference C loops: random blocks, and the float values they stand for.

    cd whet-core/src/test/resources/gguf-quants && /usr/bin/python3 make_quant_fixtures.py

block_q4_K (144 bytes, 256 values): f16 d, f16 dmin, 12 bytes holding eight 6-bit scales and eight
6-bit mins, 128 bytes of 4-bit quants. Sub-block s (32 values) is x = d * scale[s] * q - dmin * min[s];
sub-blocks 2k and 2k+1 share qs[32k:32k+32], low nibbles then high nibbles. Scales and mins 0-3 are
the low 6 bits of bytes 0-3 and 4-7; 4-7 take their low 4 bits from the low / high nibble of bytes
8-11 and their top 2 bits from the top 2 bits of bytes 0-3 (scales) / 4-7 (mins).

block_q6_K (210 bytes, 256 values): 128 bytes ql (low 4 bits), 64 bytes qh (high 2 bits), 16 int8
scales (one per 16 values), f16 d; x = d * scale * (q - 32). In each half h of 128 values, value
32g + l (g = 0..3, l = 0..31) takes the low or high nibble of ql[64h + l + 32(g % 2)] (low for g < 2)
and the 2 bits at 2g of qh[32h + l], with the scale of its group of 16.
"""
import json

import numpy as np


def q4_k(block):
    d = np.frombuffer(block[0:2], "<f2")[0].astype(np.float64)
    dmin = np.frombuffer(block[2:4], "<f2")[0].astype(np.float64)
    s = np.frombuffer(block[4:16], np.uint8).astype(np.int64)
    qs = np.frombuffer(block[16:144], np.uint8).astype(np.int64)
    scale = np.concatenate([s[0:4] & 63, (s[8:12] & 15) | ((s[0:4] >> 6) << 4)])
    mins = np.concatenate([s[4:8] & 63, (s[8:12] >> 4) | ((s[4:8] >> 6) << 4)])
    q = np.empty(256, np.int64)
    for k in range(4):
        q[64 * k:64 * k + 32] = qs[32 * k:32 * k + 32] & 15
        q[64 * k + 32:64 * k + 64] = qs[32 * k:32 * k + 32] >> 4
    sub = np.arange(256) // 32
    return d * scale[sub] * q - dmin * mins[sub]


def q6_k(block):
    ql = np.frombuffer(block[0:128], np.uint8).astype(np.int64)
    qh = np.frombuffer(block[128:192], np.uint8).astype(np.int64)
    sc = np.frombuffer(block[192:208], np.int8).astype(np.int64)
    d = np.frombuffer(block[208:210], "<f2")[0].astype(np.float64)
    x = np.empty(256)
    for half in range(2):
        for g in range(4):
            l = np.arange(32)
            low = ql[64 * half + l + 32 * (g % 2)]
            low = low & 15 if g < 2 else low >> 4
            high = (qh[32 * half + l] >> (2 * g)) & 3
            idx = 128 * half + 32 * g + l
            x[idx] = d * sc[idx // 16] * ((low | (high << 4)) - 32)
    return x


def blocks(rng, size, scale_offsets):
    raw = bytearray(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
    for off in scale_offsets:  # finite, moderate f16 scales instead of random bit patterns
        raw[off:off + 2] = np.float16(rng.uniform(-0.05, 0.05)).tobytes()
    return bytes(raw)


def main():
    rng = np.random.default_rng(5)
    out = {"numpy": np.__version__}
    for name, size, fn, offsets in [("q4_k", 144, q4_k, [0, 2]), ("q6_k", 210, q6_k, [208])]:
        data = b"".join(blocks(rng, size, offsets) for _ in range(3))
        values = np.concatenate([fn(data[i * size:(i + 1) * size]) for i in range(3)])
        out[name] = {"hex": data.hex(), "values": [float(v) for v in values]}
    with open("quant_blocks.json", "w") as f:
        json.dump(out, f)
    print("written with numpy", np.__version__)


if __name__ == "__main__":
    main()
