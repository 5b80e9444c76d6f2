package dev.whet.server;

import dev.whet.io.DiskFiles;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

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
      runs += DiskFiles.size(run);
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
            + DiskFiles.human(u.total())
            + " (files "
            + DiskFiles.human(u.files())
            + ", runs "
            + DiskFiles.human(u.runs())
            + ") of its "
            + DiskFiles.human(quotaBytes)
            + " disk quota, and "
            + what
            + " needs up to "
            + DiskFiles.human(adding)
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
}
