package dev.whet.data;

/**
 * Open-addressing map from 64-bit hashes to longs. Statistics keep one entry per distinct text of a
 * possibly huge file: 16 bytes each here against ~80 for a {@code HashMap<Long, Long>}.
 */
final class LongMap {
  /** Returned by {@link #get} for absent keys. */
  static final long ABSENT = Long.MIN_VALUE;

  private static final long EMPTY = 0;
  private long[] keys = new long[1024];
  private long[] values = new long[1024];
  private int size;

  int size() {
    return size;
  }

  long get(long key) {
    key = fix(key);
    int mask = keys.length - 1;
    for (int i = slot(key, mask); ; i = (i + 1) & mask) {
      if (keys[i] == key) {
        return values[i];
      }
      if (keys[i] == EMPTY) {
        return ABSENT;
      }
    }
  }

  void put(long key, long value) {
    key = fix(key);
    // Grow at 70% full: linear probing stays short, and 10^6 texts fit in 2^21 slots (32 MB).
    if (size * 10L >= keys.length * 7L) {
      grow();
    }
    int mask = keys.length - 1;
    for (int i = slot(key, mask); ; i = (i + 1) & mask) {
      if (keys[i] == key) {
        values[i] = value;
        return;
      }
      if (keys[i] == EMPTY) {
        keys[i] = key;
        values[i] = value;
        size++;
        return;
      }
    }
  }

  boolean containsKey(long key) {
    return get(key) != ABSENT;
  }

  private void grow() {
    long[] k = keys;
    long[] v = values;
    keys = new long[k.length * 2];
    values = new long[k.length * 2];
    size = 0;
    for (int i = 0; i < k.length; i++) {
      if (k[i] != EMPTY) {
        put(k[i], v[i]);
      }
    }
  }

  private static long fix(long key) {
    return key == EMPTY ? 1 : key; // 0 marks empty slots; a 1-in-2^64 merge is harmless here
  }

  private static int slot(long key, int mask) {
    return (int) (key ^ (key >>> 32)) * 0x9E3779B9 & mask;
  }

  /** A 64-bit FNV-1a hash of a string's chars, mixed; collisions are negligible at 10^7 texts. */
  static long hash(String s) {
    long h = FNV_OFFSET;
    for (int i = 0; i < s.length(); i++) {
      h = fnv(h, s.charAt(i));
    }
    return mix(h);
  }

  static final long FNV_OFFSET = 0xcbf29ce484222325L;

  /** One FNV-1a step. */
  static long fnv(long h, char c) {
    return (h ^ c) * 0x100000001b3L;
  }

  /** Final avalanche, so the low bits used as slots are well spread. */
  static long mix(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h;
  }
}
