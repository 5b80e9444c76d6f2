package dev.whet.io;

import java.nio.ByteBuffer;

/**
 * Dequantisation of ggml's block formats, transcribed from ggml's reference {@code
 * dequantize_row_*} functions. Each reads whole blocks from {@code b} (little-endian, positioned at
 * the tensor's first block) into {@code out}.
 */
final class GgufQuants {
  private GgufQuants() {}

  /** Q8_0: blocks of 32 values: f16 scale d, 32 × int8 q; x = d·q. */
  static void q8_0(ByteBuffer b, float[] out) {
    for (int i = 0; i < out.length; i += 32) {
      float d = Float.float16ToFloat(b.getShort());
      for (int j = 0; j < 32; j++) {
        out[i + j] = d * b.get();
      }
    }
  }

  /**
   * Q4_K: super-blocks of 256 values: f16 d, f16 dmin, 12 bytes of packed 6-bit scales and mins for
   * 8 sub-blocks of 32, 128 bytes of 4-bit quants; x = d·scale·q − dmin·min.
   */
  static void q4K(ByteBuffer b, float[] out) {
    byte[] scales = new byte[12];
    byte[] qs = new byte[128];
    int[] sm = new int[2];
    for (int i = 0; i < out.length; i += 256) {
      float d = Float.float16ToFloat(b.getShort());
      float dmin = Float.float16ToFloat(b.getShort());
      b.get(scales);
      b.get(qs);
      int y = i;
      int q = 0;
      for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
        scaleMin(is, scales, sm);
        float d1 = d * sm[0];
        float m1 = dmin * sm[1];
        scaleMin(is + 1, scales, sm);
        float d2 = d * sm[0];
        float m2 = dmin * sm[1];
        for (int l = 0; l < 32; l++) {
          out[y++] = d1 * (qs[q + l] & 0xF) - m1;
        }
        for (int l = 0; l < 32; l++) {
          out[y++] = d2 * ((qs[q + l] & 0xff) >> 4) - m2;
        }
      }
    }
  }

  // ggml's get_scale_min_k4: 6-bit scale and min of sub-block j.
  private static void scaleMin(int j, byte[] q, int[] sm) {
    if (j < 4) {
      sm[0] = q[j] & 63;
      sm[1] = q[j + 4] & 63;
    } else {
      sm[0] = (q[j + 4] & 0xF) | (((q[j - 4] & 0xff) >> 6) << 4);
      sm[1] = ((q[j + 4] & 0xff) >> 4) | (((q[j] & 0xff) >> 6) << 4);
    }
  }

  /**
   * Q6_K: super-blocks of 256 values: 128 bytes of low 4 bits, 64 bytes of high 2 bits, 16 int8
   * scales (one per 16 values), f16 d; x = d·scale·(q − 32).
   */
  static void q6K(ByteBuffer b, float[] out) {
    byte[] ql = new byte[128];
    byte[] qh = new byte[64];
    byte[] sc = new byte[16];
    for (int i = 0; i < out.length; i += 256) {
      b.get(ql);
      b.get(qh);
      b.get(sc);
      float d = Float.float16ToFloat(b.getShort());
      for (int n = 0; n < 2; n++) {
        int y = i + n * 128;
        int l0 = n * 64;
        int h0 = n * 32;
        int s0 = n * 8;
        for (int l = 0; l < 32; l++) {
          int is = l / 16;
          int h = qh[h0 + l] & 0xff;
          int q1 = ((ql[l0 + l] & 0xF) | ((h & 3) << 4)) - 32;
          int q2 = ((ql[l0 + l + 32] & 0xF) | (((h >> 2) & 3) << 4)) - 32;
          int q3 = (((ql[l0 + l] & 0xff) >> 4) | (((h >> 4) & 3) << 4)) - 32;
          int q4 = (((ql[l0 + l + 32] & 0xff) >> 4) | (((h >> 6) & 3) << 4)) - 32;
          out[y + l] = d * sc[s0 + is] * q1;
          out[y + l + 32] = d * sc[s0 + is + 2] * q2;
          out[y + l + 64] = d * sc[s0 + is + 4] * q3;
          out[y + l + 96] = d * sc[s0 + is + 6] * q4;
        }
      }
    }
  }
}
