package dev.whet.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/** Sizes on disk: measured, deleted and written for people. */
public final class DiskFiles {
  private DiskFiles() {}

  /** "250 KiB", "1.0 MiB", "12.3 GiB". */
  public static String human(long bytes) {
    if (bytes < 1 << 20) {
      return String.format(Locale.ROOT, "%.0f KiB", bytes / 1024.0);
    }
    if (bytes < 1L << 30) {
      return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }
    return String.format(Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  }

  /**
   * The size of a file, or of every file under a directory; 0 for what does not exist. Files that
   * vanish during the walk (a run renaming its checkpoint into place) count 0.
   */
  public static long size(Path path) {
    if (Files.isRegularFile(path)) {
      return sizeOrZero(path);
    }
    if (!Files.isDirectory(path)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(path)) {
      return s.filter(Files::isRegularFile).mapToLong(DiskFiles::sizeOrZero).sum();
    } catch (NoSuchFileException e) {
      return 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof NoSuchFileException) {
        return 0; // the directory went away while it was walked
      }
      throw e;
    }
  }

  /** Deletes a file or a directory with everything in it; nothing for what does not exist. */
  public static void delete(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> s = Files.walk(path)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Fills a directory; may throw {@link IOException}. */
  @FunctionalInterface
  public interface DirectoryWriter {
    void write(Path dir) throws IOException;
  }

  /**
   * Replaces {@code dir} by what {@code writer} puts in a fresh sibling temporary directory, moved
   * into place at the end: a failure leaves the old directory as it was.
   *
   * @param what names the directory in the error ("the model")
   */
  public static void replaceDirectory(Path dir, String what, DirectoryWriter writer) {
    Path tmp = dir.resolveSibling("." + dir.getFileName() + ".tmp");
    try {
      delete(tmp);
      Files.createDirectories(tmp);
      writer.write(tmp);
      delete(dir);
      Files.move(tmp, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new dev.whet.WhetException(
          dir + ": cannot save " + what + " (" + e.getMessage() + ")", e);
    }
  }

  private static long sizeOrZero(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return 0;
    }
  }
}
