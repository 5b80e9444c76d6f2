package dev.whet.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.data.DataError;
import dev.whet.data.DataOptions;
import dev.whet.data.DataStats;
import dev.whet.data.ValidationReport;
import dev.whet.data.Validator;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /v1/files}: upload (validated by the data layer, the same line-precise messages as {@code
 * whet data check}), list, retrieve, content, delete; and {@code /v1/whet/files/validate}, the
 * check alone.
 */
final class FileRoutes implements Routes {
  static final String FINE_TUNE = "fine-tune";
  static final String RESULTS = "fine-tune-results";
  private static final Pattern FIELD = Pattern.compile("field \"([^\"]+)\"");

  private final Store store;
  private final Blobs blobs;
  private final DiskQuota quota;

  FileRoutes(Store store, Blobs blobs, DiskQuota quota) {
    this.store = store;
    this.blobs = blobs;
    this.quota = quota;
  }

  @Override
  public void register(Javalin app) {
    app.post("/v1/files", this::upload);
    app.get("/v1/files", this::list);
    app.get("/v1/files/{id}", this::retrieve);
    app.get("/v1/files/{id}/content", this::content);
    app.delete("/v1/files/{id}", this::delete);
    app.post("/v1/whet/files/validate", this::validate);
  }

  /** An upload checked and on disk, not yet a file row. */
  private record Checked(Blobs.Staged staged, String filename, String format, DataStats stats) {}

  void upload(Context ctx) throws IOException {
    Caller caller = Caller.of(ctx);
    // Refused before the body is read when its declared size alone passes the quota.
    quota.check(caller.project(), Math.max(0, declaredLength(ctx)), "this upload", "file");
    UploadedFile file = uploadedFile(ctx);
    String purpose = ctx.formParam("purpose");
    if (purpose == null) {
      throw ApiError.invalid("Missing required parameter: 'purpose' (use 'fine-tune').", "purpose");
    }
    if (!purpose.equals(FINE_TUNE)) {
      throw ApiError.invalid(
          "Invalid purpose '" + purpose + "': this server accepts 'fine-tune' uploads.", "purpose");
    }
    String role = ctx.formParam("whet_role");
    if (role != null && !ROLES.contains(role)) {
      throw ApiError.invalid(
          "Invalid whet_role '" + role + "': one of " + String.join(", ", ROLES) + ".",
          "whet_role");
    }
    Checked c = check(file);
    if (role == null) {
      role = role(c.filename());
    }
    try (Blobs.Staged staged = c.staged()) {
      quota.check(caller.project(), staged.bytes(), "this upload", "file");
      ValidationReport report = c.stats().report();
      if (!report.valid()) {
        throw ApiError.invalid(
            c.filename()
                + " is not a valid dataset ("
                + report.errorTotal()
                + (report.errorTotal() == 1 ? " error" : " errors")
                + "):\n"
                + describe(c.filename(), report),
            "file",
            "invalid_file");
      }
      blobs.commit(staged, c.format());
      Store.FileRow row =
          new Store.FileRow(
              Store.newId("file-"),
              caller.project(),
              c.filename(),
              FINE_TUNE,
              staged.bytes(),
              staged.sha256(),
              c.format(),
              report.task().cliName(),
              report.count(),
              Store.now(),
              role);
      store.insertFile(row);
      ctx.json(object(row));
    }
  }

  void validate(Context ctx) throws IOException {
    Caller.of(ctx);
    Checked c = check(uploadedFile(ctx));
    try (Blobs.Staged ignored = c.staged()) {
      ValidationReport report = c.stats().report();
      List<Map<String, Object>> errors = new ArrayList<>();
      for (DataError e : report.errors()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("line", e.line());
        m.put("column", e.column());
        m.put("field", field(e.message()));
        m.put("message", e.message());
        errors.add(m);
      }
      ObjectNode stats = c.stats().toJson();
      stats.remove(List.of("file", "errors", "valid"));
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("valid", report.valid());
      out.put("filename", c.filename());
      out.put("examples", report.count());
      out.put("task", report.task() == null ? null : report.task().cliName());
      out.put("role", role(c.filename()));
      out.put("errors", errors);
      out.put("error_total", report.errorTotal());
      out.put("stats", stats);
      ctx.json(out);
    }
  }

  /** The multipart {@code file} part, refused (413) past the size limit before it is read. */
  private UploadedFile uploadedFile(Context ctx) {
    if (declaredLength(ctx) > blobs.maxBytes() + 64 * 1024) {
      throw Blobs.tooLarge(blobs.maxBytes()); // before a byte of the body is read
    }
    UploadedFile file;
    try {
      file = ctx.uploadedFile("file");
    } catch (Exception e) { // Jetty's IOException arrives unchecked through Javalin
      throw unreadableMultipart(e, blobs.maxBytes());
    }
    if (file == null) {
      throw ApiError.invalid(
          "Missing required parameter: 'file' (send multipart/form-data with a 'file' part).",
          "file");
    }
    return file;
  }

  /**
   * The Content-Length header as a long: the servlet API's int reads anything past 2³¹ − 1 as
   * unknown, which skipped the early 413 and left the server waiting for a body that never came.
   */
  static long declaredLength(Context ctx) {
    String header = ctx.header("Content-Length");
    if (header == null) {
      return -1;
    }
    try {
      return Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      return Long.MAX_VALUE; // more digits than a long holds: too large for any limit
    }
  }

  /**
   * Why Jetty could not read a multipart body, as the client's error: 413 when a part or the
   * request passed the size limit, else 400 (no or wrong boundary, a body cut short, control
   * characters in a part's headers such as its file name).
   */
  static ApiError unreadableMultipart(Exception e, long maxBytes) {
    String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (why.contains("exceeds max filesize") || why.contains("exceeds maxRequestSize")) {
      return Blobs.tooLarge(maxBytes);
    }
    // Jetty wraps its parser's exceptions; "IllegalCharacterException: 400: Illegal character"
    // reads better without the class names.
    why = why.replaceAll("[\\w.$]+Exception: (\\d+: )?", "");
    return ApiError.invalid(
        "The multipart/form-data body could not be read ("
            + why
            + "). Send a 'purpose' field and a 'file' part with the boundary named in the"
            + " Content-Type header, and a file name without control characters.",
        "file");
  }

  /** Copies an upload to disk within the size limit and checks it with the data layer. */
  private Checked check(UploadedFile file) throws IOException {
    String filename = displayName(file.filename());
    String format = Validator.formatOf(filename);
    Blobs.Staged staged;
    try (InputStream in = file.content()) {
      staged = blobs.stage(in);
    }
    try {
      DataStats stats = DataStats.compute(staged.tmp(), DataOptions.defaults().withFormat(format));
      return new Checked(staged, filename, format, stats);
    } catch (RuntimeException e) {
      staged.close();
      throw e;
    }
  }

  /**
   * The client's file name, for display only: its last path segment, without control characters, at
   * most 255 characters. Contents are stored by hash, so the name never reaches the disk.
   */
  static String displayName(String name) {
    if (name == null || name.isBlank()) {
      return "upload.jsonl";
    }
    String base = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
    base = base.replaceAll("\\p{Cntrl}", "").strip();
    if (base.isEmpty() || base.equals(".") || base.equals("..")) {
      base = "upload.jsonl";
    }
    return base.length() > 255 ? base.substring(base.length() - 255) : base;
  }

  /** {@code name:line[:column]: message} per error, then how many more there were. */
  static String describe(String filename, ValidationReport report) {
    StringBuilder s = new StringBuilder();
    for (DataError e : report.errors()) {
      s.append(new DataError(filename, e.line(), e.column(), e.message())).append('\n');
    }
    if (report.errorTotal() > report.errors().size()) {
      s.append("... and ").append(report.errorTotal() - report.errors().size()).append(" more");
    }
    return s.toString().strip();
  }

  /** The field a data error names ({@code field "label"}), or null. */
  static String field(String message) {
    Matcher m = FIELD.matcher(message);
    return m.find() ? m.group(1) : null;
  }

  void list(Context ctx) {
    Caller caller = Caller.of(ctx);
    String order = ctx.queryParam("order");
    if (order != null && !order.equals("asc") && !order.equals("desc")) {
      throw ApiError.invalid("'order' must be 'asc' or 'desc'.", "order");
    }
    Store.Page<Store.FileRow> page =
        store.files(
            caller.project(),
            ctx.queryParam("purpose"),
            ctx.queryParam("after"),
            Http.limit(ctx, 10_000, 10_000),
            "asc".equals(order));
    List<Map<String, Object>> data = page.data().stream().map(FileRoutes::object).toList();
    Map<String, Object> out = Http.list(data, page.hasMore());
    out.put("first_id", data.isEmpty() ? null : data.get(0).get("id"));
    out.put("last_id", data.isEmpty() ? null : data.get(data.size() - 1).get("id"));
    ctx.json(out);
  }

  private Store.FileRow find(Context ctx) {
    Caller caller = Caller.of(ctx);
    Store.FileRow f = store.file(caller.project(), ctx.pathParam("id"));
    if (f == null) {
      throw ApiError.notFound("file", ctx.pathParam("id"));
    }
    return f;
  }

  void retrieve(Context ctx) {
    ctx.json(object(find(ctx)));
  }

  void content(Context ctx) throws IOException {
    Store.FileRow f = find(ctx);
    var path = blobs.path(f.sha256(), f.format());
    if (!Files.isRegularFile(path)) {
      throw ApiError.notFound("file content", f.id());
    }
    ctx.contentType(f.format().equals("csv") ? "text/csv" : "application/octet-stream");
    ctx.header("Content-Disposition", "attachment; filename=\"" + f.id() + "." + f.format() + "\"");
    ctx.result(Files.newInputStream(path));
  }

  void delete(Context ctx) {
    Store.FileRow f = find(ctx);
    if (!store.deleteFile(f.project(), f.id(), f.sha256(), f.format())) {
      blobs.delete(f.sha256(), f.format());
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", f.id());
    out.put("object", "file");
    out.put("deleted", true);
    ctx.json(out);
  }

  /** OpenAI's {@code file} object. */
  static Map<String, Object> object(Store.FileRow f) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", f.id());
    m.put("object", "file");
    m.put("bytes", f.bytes());
    m.put("created_at", f.createdAt());
    m.put("filename", f.filename());
    m.put("purpose", f.purpose());
    m.put("status", "processed");
    m.put("status_details", null);
    if (f.task() != null) {
      Map<String, Object> whet = new LinkedHashMap<>();
      whet.put("task", f.task());
      whet.put("examples", f.examples());
      whet.put("role", f.role() == null ? role(f.filename()) : f.role());
      m.put("whet", whet);
    }
    return m;
  }

  /** What an upload may be for; a job's form defaults each file field by it. */
  static final List<String> ROLES = List.of("train", "validation", "test");

  /**
   * The role a file's name suggests: {@code test} for test*, {@code validation} for val, valid,
   * validation or dev (as a word of the name: "dev-200.jsonl", "sst2_val.csv"), else {@code train}.
   */
  static String role(String filename) {
    String name = filename.toLowerCase(java.util.Locale.ROOT);
    int dot = name.lastIndexOf('.');
    String stem = dot > 0 ? name.substring(0, dot) : name;
    List<String> words = List.of(stem.split("[^a-z0-9]+"));
    if (words.stream().anyMatch(w -> w.equals("test") || w.equals("eval"))) return "test";
    if (words.stream().anyMatch(w -> List.of("val", "valid", "validation", "dev").contains(w))) {
      return "validation";
    }
    return "train";
  }
}
