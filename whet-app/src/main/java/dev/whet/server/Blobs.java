package dev.whet.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Uploaded file contents under {@code WHET_HOME/files}, named by their SHA-256 and format ({@code
 * <sha256>.jsonl}) — never by the name a client sent. An upload is streamed into a temporary file
 * in the same directory, counted as it goes (refused past the limit), then renamed into place, so a
 * content file is either whole or absent.
 */
final class Blobs {
  /** An upload on disk, not yet in place. */
  record Staged(Path tmp, String sha256, long bytes) implements AutoCloseable {
    @Override
    public void close() {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // a stray temp file; removed at the next start
      }
    }
  }

  private final Path dir;
  private final long maxBytes;

  Blobs(Path dir, long maxBytes) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    try {
      Files.createDirectories(dir);
      try (var s = Files.newDirectoryStream(dir, ".upload-*")) {
        for (Path p : s) {
          Files.deleteIfExists(p); // left by a server killed mid-upload
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  long maxBytes() {
    return maxBytes;
  }

  /** Copies {@code in} to a temporary file, hashing it; 413 once it passes the size limit. */
  Staged stage(InputStream in) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    Path tmp = Files.createTempFile(dir, ".upload-", ".tmp");
    long n = 0;
    try (InputStream digest = new DigestInputStream(in, sha);
        OutputStream out = Files.newOutputStream(tmp)) {
      byte[] buf = new byte[1 << 16];
      for (int r; (r = digest.read(buf)) > 0; ) {
        n += r;
        if (n > maxBytes) {
          throw tooLarge(maxBytes);
        }
        out.write(buf, 0, r);
      }
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    return new Staged(tmp, HexFormat.of().formatHex(sha.digest()), n);
  }

  static ApiError tooLarge(long maxBytes) {
    return ApiError.tooLarge(
        "File too large: the limit is "
            + (maxBytes >= 1024 * 1024 ? maxBytes / (1024 * 1024) + " MB" : maxBytes + " bytes")
            + " (`whet serve --max-upload-mb`); split the data or raise the limit.");
  }

  /** Moves a staged upload into place (identical content is stored once). */
  Path commit(Staged s, String format) throws IOException {
    Path target = path(s.sha256(), format);
    if (!Files.exists(target)) {
      Files.move(s.tmp(), target, StandardCopyOption.ATOMIC_MOVE);
    }
    return target;
  }

  Path path(String sha256, String format) {
    return dir.resolve(sha256 + "." + format);
  }

  void delete(String sha256, String format) {
    try {
      Files.deleteIfExists(path(sha256, format));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes generated content (a job's result CSV) as a blob; returns its hash. */
  String write(byte[] content, String format) throws IOException {
    try (Staged s = stage(new java.io.ByteArrayInputStream(content))) {
      commit(s, format);
      return s.sha256();
    }
  }
}
