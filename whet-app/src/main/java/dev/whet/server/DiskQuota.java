package dev.whet.server;

import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A project's disk, against the operator's quota ({@code whet serve --max-project-disk}): its
 * uploaded files and its jobs' run directories (models, checkpoints, reports). An upload or a job
 * that would pass the quota is refused with 413 {@code insufficient_quota}, saying what the project
 * holds and what frees space; {@code GET /v1/whet/usage} shows the same figures.
 */
final class DiskQuota implements Routes {
  private final Store store;
  private final long quotaBytes;

  /**
   * @param quotaBytes per project; 0 for none
   */
  DiskQuota(Store store, long quotaBytes) {
    this.store = store;
    this.quotaBytes = quotaBytes;
  }

  /** What a project holds, in bytes. */
  record Usage(long files, long runs) {
    long total() {
      return files + runs;
    }
  }

  Usage usage(String project) {
    long runs = 0;
    for (Path run : store.runDirs(project)) {
      runs += bytesUnder(run);
    }
    return new Usage(store.fileBytes(project), runs);
  }

  /**
   * Refuses what would take the project past its quota.
   *
   * @param adding the bytes about to be stored
   * @param what what is being added, for the message ("this 12 MiB upload")
   */
  void check(String project, long adding, String what, String param) {
    if (quotaBytes <= 0) {
      return;
    }
    Usage u = usage(project);
    if (u.total() + adding <= quotaBytes) {
      return;
    }
    throw new ApiError(
        413,
        "invalid_request_error",
        "Your project holds "
            + size(u.total())
            + " (files "
            + size(u.files())
            + ", runs "
            + size(u.runs())
            + ") of its "
            + size(quotaBytes)
            + " disk quota, and "
            + what
            + " needs up to "
            + size(adding)
            + " more. Delete files (DELETE /v1/files/{id}) or models (DELETE /v1/models/{id})"
            + " you no longer need, or ask the operator for a larger `whet serve"
            + " --max-project-disk`.",
        param,
        "insufficient_quota");
  }

  @Override
  public void register(Javalin app) {
    app.get("/v1/whet/usage", this::get);
  }

  private void get(Context ctx) {
    Caller caller = Caller.of(ctx);
    Usage u = usage(caller.project());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("object", "whet.usage");
    out.put("project", caller.project());
    out.put("files_bytes", u.files());
    out.put("runs_bytes", u.runs());
    out.put("total_bytes", u.total());
    out.put("quota_bytes", quotaBytes > 0 ? quotaBytes : null);
    ctx.json(out);
  }

  /** "250 KiB", "1.0 MiB", "12.3 GiB". */
  static String size(long bytes) {
    if (bytes < 1 << 20) {
      return String.format(Locale.ROOT, "%.0f KiB", bytes / 1024.0);
    }
    if (bytes < 1L << 30) {
      return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }
    return String.format(Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  }

  /**
   * The size of every file under {@code dir}; files that vanish meanwhile (a run saving) count 0.
   */
  static long bytesUnder(Path dir) {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(DiskQuota::sizeOrZero).sum();
    } catch (NoSuchFileException e) {
      return 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof NoSuchFileException) {
        return 0; // a temporary directory renamed away during the walk
      }
      throw e;
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
