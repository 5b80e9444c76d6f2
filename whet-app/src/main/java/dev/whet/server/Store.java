package dev.whet.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.whet.io.Sha256;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

/**
 * Every row the service keeps — API keys, files, jobs and their events — read and written here and
 * nowhere else. Queries are scoped by project where a caller is involved; the worker's queue
 * operations ({@link #claim}, {@link #renewLease}) are not.
 */
final class Store implements AutoCloseable {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  record Key(String id, String name, String project, long createdAt, Long revokedAt) {}

  record FileRow(
      String id,
      String project,
      String filename,
      String purpose,
      long bytes,
      String sha256,
      String format,
      String task,
      Integer examples,
      long createdAt,
      String role) {}

  record Job(
      String id,
      String project,
      String status,
      String request,
      String model,
      String fineTunedModel,
      long createdAt,
      Long finishedAt,
      Long trainedTokens,
      Long estimatedFinish,
      String error,
      String resultFile,
      String runDir,
      boolean modelDeleted) {
    /** A job as created: nothing run, nothing recorded yet. */
    static Job created(
        String id, String project, String status, String request, String model, String runDir) {
      return new Job(
          id, project, status, request, model, null, now(), null, null, null, null, null, runDir,
          false);
    }

    boolean terminal() {
      return status.equals("succeeded") || status.equals("failed") || status.equals("cancelled");
    }
  }

  record Event(
      long seq,
      String jobId,
      long createdAt,
      String level,
      String type,
      String message,
      String data) {}

  /** One page of a list: the rows and whether more follow. */
  record Page<T>(List<T> data, boolean hasMore) {}

  /** A chat completion served: its request's messages (JSON) and the reply. */
  record Completion(
      String id, String project, String model, String messages, String reply, long createdAt) {}

  /**
   * What a user said of a completion: a rating (+1 good, -1 bad) and/or a preferred answer.
   *
   * @param completion the completion it is about
   */
  record Feedback(
      String id,
      Integer rating,
      String preferred,
      String comment,
      long createdAt,
      Completion completion) {}

  private final Db db;

  Store(Db db) {
    this.db = db;
  }

  Db.Dialect dialect() {
    return db.dialect();
  }

  static String newId(String prefix) {
    StringBuilder s = new StringBuilder(prefix);
    for (int i = 0; i < 24; i++) {
      s.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return s.toString();
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  // --- keys

  /**
   * Creates a key for {@code project}; returns the secret, which is shown once: only its SHA-256 is
   * stored (the key carries 256 random bits, so a plain hash is enough; no salt or stretching).
   */
  String createKey(String name, String project, String[] idOut) {
    if (name == null || name.isBlank() || project == null || project.isBlank()) {
      throw new dev.whet.WhetException("a key needs a name and a project");
    }
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    String key = "whet-" + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    String id = newId("key_").substring(0, 16);
    db.tx(
        c ->
            update(
                c,
                "INSERT INTO keys (id, name, project, hash, created_at) VALUES (?, ?, ?, ?, ?)",
                id,
                name,
                project,
                Sha256.hex(key),
                now()));
    idOut[0] = id;
    return key;
  }

  /** The live key with this secret, or null. */
  Key keyBySecret(String secret) {
    return db.tx(
        c ->
            one(
                c,
                Store::key,
                "SELECT * FROM keys WHERE hash = ? AND revoked_at IS NULL",
                Sha256.hex(secret)));
  }

  List<Key> keys() {
    return db.tx(c -> all(c, Store::key, "SELECT * FROM keys ORDER BY seq"));
  }

  /** Revokes a key; false when there is no live key with that id. */
  boolean revokeKey(String id) {
    return db.tx(
            c ->
                update(
                    c,
                    "UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    now(),
                    id))
        > 0;
  }

  private static Key key(ResultSet r) throws SQLException {
    return new Key(
        r.getString("id"),
        r.getString("name"),
        r.getString("project"),
        r.getLong("created_at"),
        nullableLong(r, "revoked_at"));
  }

  // --- completions and feedback

  void insertCompletion(Completion c) {
    db.tx(
        x ->
            update(
                x,
                "INSERT INTO completions (id, project, model, messages, reply, created_at)"
                    + " VALUES (?, ?, ?, ?, ?, ?)",
                c.id(),
                c.project(),
                c.model(),
                c.messages(),
                c.reply(),
                c.createdAt()));
  }

  /** The project's completion {@code id}, or null (another project's is never found). */
  Completion completion(String project, String id) {
    return db.tx(
        c ->
            one(
                c,
                Store::completion,
                "SELECT * FROM completions WHERE project = ? AND id = ?",
                project,
                id));
  }

  void insertFeedback(
      String id,
      String project,
      String completionId,
      Integer rating,
      String preferred,
      String comment,
      long createdAt) {
    db.tx(
        c ->
            update(
                c,
                "INSERT INTO feedback (id, project, completion_id, rating, preferred, comment,"
                    + " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                id,
                project,
                completionId,
                rating,
                preferred,
                comment,
                createdAt));
  }

  /** The project's feedback on completions of {@code model}, oldest first. */
  List<Feedback> feedback(String project, String model) {
    return db.tx(
        c ->
            all(
                c,
                r ->
                    new Feedback(
                        r.getString("fid"),
                        nullableInt(r, "rating"),
                        r.getString("preferred"),
                        r.getString("comment"),
                        r.getLong("fcreated"),
                        completion(r)),
                "SELECT f.id AS fid, f.rating, f.preferred, f.comment, f.created_at AS fcreated,"
                    + " c.* FROM feedback f JOIN completions c ON c.id = f.completion_id"
                    + " AND c.project = f.project WHERE f.project = ? AND c.model = ?"
                    + " ORDER BY f.seq",
                project,
                model));
  }

  private static Completion completion(ResultSet r) throws SQLException {
    return new Completion(
        r.getString("id"),
        r.getString("project"),
        r.getString("model"),
        r.getString("messages"),
        r.getString("reply"),
        r.getLong("created_at"));
  }

  // --- files

  void insertFile(FileRow f) {
    db.tx(
        c ->
            update(
                c,
                "INSERT INTO files (id, project, filename, purpose, bytes, sha256, format, task,"
                    + " examples, created_at, role) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                f.id(),
                f.project(),
                f.filename(),
                f.purpose(),
                f.bytes(),
                f.sha256(),
                f.format(),
                f.task(),
                f.examples(),
                f.createdAt(),
                f.role()));
  }

  FileRow file(String project, String id) {
    return db.tx(
        c -> one(c, Store::file, "SELECT * FROM files WHERE project = ? AND id = ?", project, id));
  }

  /** Newest first (or oldest first with {@code ascending}), after the row {@code after}. */
  Page<FileRow> files(String project, String purpose, String after, int limit, boolean ascending) {
    return db.tx(
        c -> {
          List<Object> args = new ArrayList<>(List.of(project));
          String sql = "SELECT * FROM files WHERE project = ?";
          if (purpose != null) {
            sql += " AND purpose = ?";
            args.add(purpose);
          }
          if (after != null) {
            sql += " AND seq " + (ascending ? ">" : "<") + " (SELECT seq FROM files WHERE id = ?)";
            args.add(after);
          }
          sql += " ORDER BY seq " + (ascending ? "ASC" : "DESC") + " LIMIT ?";
          args.add(limit + 1);
          return page(all(c, Store::file, sql, args.toArray()), limit);
        });
  }

  /** Deletes the row; returns whether another row still uses the same content. */
  boolean deleteFile(String project, String id, String sha256, String format) {
    return db.tx(
        c -> {
          update(c, "DELETE FROM files WHERE project = ? AND id = ?", project, id);
          return one(
                  c,
                  r -> r.getLong(1),
                  "SELECT COUNT(*) FROM files WHERE sha256 = ? AND format = ?",
                  sha256,
                  format)
              > 0;
        });
  }

  private static FileRow file(ResultSet r) throws SQLException {
    return new FileRow(
        r.getString("id"),
        r.getString("project"),
        r.getString("filename"),
        r.getString("purpose"),
        r.getLong("bytes"),
        r.getString("sha256"),
        r.getString("format"),
        r.getString("task"),
        nullableInt(r, "examples"),
        r.getLong("created_at"),
        r.getString("role"));
  }

  // --- jobs

  void insertJob(Job j) {
    db.tx(
        c ->
            update(
                c,
                "INSERT INTO jobs (id, project, status, request, model, created_at, run_dir)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?)",
                j.id(),
                j.project(),
                j.status(),
                j.request(),
                j.model(),
                j.createdAt(),
                j.runDir()));
  }

  Job job(String project, String id) {
    return db.tx(
        c -> one(c, Store::job, "SELECT * FROM jobs WHERE project = ? AND id = ?", project, id));
  }

  /** A job by id in any project (the worker's view). */
  Job job(String id) {
    return db.tx(c -> one(c, Store::job, "SELECT * FROM jobs WHERE id = ?", id));
  }

  Page<Job> jobs(String project, String after, int limit) {
    return db.tx(
        c -> {
          List<Object> args = new ArrayList<>(List.of(project));
          String sql = "SELECT * FROM jobs WHERE project = ?";
          if (after != null) {
            sql += " AND seq < (SELECT seq FROM jobs WHERE id = ?)";
            args.add(after);
          }
          args.add(limit + 1);
          return page(
              all(c, Store::job, sql + " ORDER BY seq DESC LIMIT ?", args.toArray()), limit);
        });
  }

  /** Bytes of the project's files (each upload counts, even of content another also uploaded). */
  long fileBytes(String project) {
    return db.tx(
        c -> {
          Long sum =
              one(
                  c,
                  r -> r.getLong(1),
                  "SELECT COALESCE(SUM(bytes), 0) FROM files WHERE project = ?",
                  project);
          return sum == null ? 0 : sum;
        });
  }

  /** The run directories of the project's jobs, whatever their status. */
  List<Path> runDirs(String project) {
    return db.tx(
        c ->
            all(
                c,
                r -> Path.of(r.getString(1)),
                "SELECT run_dir FROM jobs WHERE project = ? ORDER BY seq",
                project));
  }

  /** The project's jobs that produced a model still available. */
  List<Job> fineTunedModels(String project) {
    return db.tx(
        c ->
            all(
                c,
                Store::job,
                "SELECT * FROM jobs WHERE project = ? AND status = 'succeeded'"
                    + " AND model_deleted = 0 ORDER BY seq",
                project));
  }

  /**
   * Moves a job from one of {@code from} to {@code to}; false when it was in another status (a
   * cancel that raced the worker, say).
   */
  boolean transition(String id, List<String> from, String to) {
    String in = String.join(",", from.stream().map(s -> "'" + s + "'").toList());
    return db.tx(
            c ->
                update(
                    c,
                    "UPDATE jobs SET status = ?, finished_at = ? WHERE id = ? AND status IN ("
                        + in
                        + ")",
                    to,
                    List.of("succeeded", "failed", "cancelled").contains(to) ? now() : null,
                    id))
        > 0;
  }

  /**
   * Records a finished job's outcome, unless it was cancelled meanwhile or {@code owner} no longer
   * holds its lease (another server took it over: that server records the outcome).
   */
  boolean finish(
      String id,
      String owner,
      String status,
      String fineTunedModel,
      Long trainedTokens,
      String error,
      String resultFile) {
    return db.tx(
            c ->
                update(
                    c,
                    "UPDATE jobs SET status = ?, finished_at = ?, fine_tuned_model = ?,"
                        + " trained_tokens = ?, error = ?, result_file = ?, estimated_finish ="
                        + " NULL, lease_owner = NULL WHERE id = ? AND status = 'running'"
                        + " AND lease_owner = ?",
                    status,
                    now(),
                    fineTunedModel,
                    trainedTokens,
                    error,
                    resultFile,
                    id,
                    owner))
        > 0;
  }

  /** Sets a job's estimate; false (nothing written) when {@code owner} lost the job's lease. */
  boolean setEstimatedFinish(String id, String owner, long when) {
    return setLeased(id, owner, "estimated_finish", when);
  }

  /**
   * Sets one column of job {@code id} while {@code owner} holds its lease; false (nothing written)
   * when it lost it.
   */
  private boolean setLeased(String id, String owner, String column, Object value) {
    return db.tx(
            c ->
                update(
                    c,
                    "UPDATE jobs SET " + column + " = ? WHERE id = ? AND lease_owner = ?",
                    value,
                    id,
                    owner))
        > 0;
  }

  void markModelDeleted(String project, String id) {
    db.tx(
        c ->
            update(
                c, "UPDATE jobs SET model_deleted = 1 WHERE project = ? AND id = ?", project, id));
  }

  /**
   * Claims a runnable job for {@code owner}: a queued one, or a running one whose lease ran out
   * (its server died). Claims go round the projects: the job comes from the project whose last
   * claim is oldest (never claimed first), and within it the oldest job, so one project's queue of
   * long jobs cannot hold another's back. On PostgreSQL the row lock with SKIP LOCKED makes
   * concurrent claims from several servers take different jobs; SQLite serialises writers anyway.
   * Returns the job as it was before the claim (its status tells whether it was interrupted), or
   * null.
   */
  Job claim(String owner, long leaseSeconds) {
    return db.tx(
        c -> {
          long now = now();
          String lock = db.dialect() == Db.Dialect.POSTGRES ? " FOR UPDATE SKIP LOCKED" : "";
          Job j =
              one(
                  c,
                  Store::job,
                  "SELECT * FROM jobs WHERE (status = 'queued'"
                      + " OR (status = 'running' AND (lease_until IS NULL OR lease_until < ?)))"
                      + " ORDER BY COALESCE((SELECT MAX(p.claimed_at) FROM jobs p"
                      + " WHERE p.project = jobs.project), 0), seq LIMIT 1"
                      + lock,
                  now);
          if (j == null) {
            return null;
          }
          update(
              c,
              "UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?,"
                  + " claimed_at = ? WHERE id = ?",
              owner,
              now + leaseSeconds,
              System.currentTimeMillis(),
              j.id());
          return j;
        });
  }

  // --- groups of servers training one job (whet.workers)

  /**
   * Publishes where a job's group meets ({@code rendezvous}: JSON with epoch, host, port, world,
   * resume), fenced by the lease; null takes it down.
   */
  boolean publishGroup(String jobId, String owner, String rendezvous) {
    return setLeased(jobId, owner, "rendezvous", rendezvous);
  }

  /**
   * A place in a forming group of another server's running job: the job, its rendezvous and the
   * rank taken (1 to world − 1, one per server and epoch), or null when no group is looking for
   * members. Two servers racing for a rank: the unique key lets one in.
   */
  Member joinGroup(String owner) {
    return db.tx(
        c -> {
          List<Job> forming =
              all(
                  c,
                  Store::job,
                  "SELECT * FROM jobs WHERE status = 'running' AND rendezvous IS NOT NULL"
                      + " AND lease_owner <> ? ORDER BY seq",
                  owner);
          for (Job j : forming) {
            String rendezvous =
                one(c, r -> r.getString(1), "SELECT rendezvous FROM jobs WHERE id = ?", j.id());
            if (rendezvous == null) continue;
            com.fasterxml.jackson.databind.JsonNode g = Http.tree(rendezvous);
            String epoch = g.path("epoch").asText();
            List<String> owners =
                all(
                    c,
                    r -> r.getString(1),
                    "SELECT owner FROM job_members WHERE job_id = ? AND epoch = ?",
                    j.id(),
                    epoch);
            int world = g.path("world").asInt();
            if (owners.contains(owner) || owners.size() >= world - 1) continue;
            int rank = owners.size() + 1;
            update(
                c,
                "INSERT INTO job_members (job_id, epoch, rank, owner) VALUES (?, ?, ?, ?)",
                j.id(),
                epoch,
                rank,
                owner);
            return new Member(j, g, rank);
          }
          return null;
        });
  }

  /** A server's place in another server's job: {@code rendezvous} as published, and its rank. */
  record Member(Job job, com.fasterxml.jackson.databind.JsonNode rendezvous, int rank) {}

  /** A running job back in the queue (its group lost a member): the next claim resumes it. */
  void requeue(String jobId, String owner) {
    db.tx(
        c ->
            update(
                c,
                "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL,"
                    + " rendezvous = NULL WHERE id = ? AND lease_owner = ? AND status = 'running'",
                jobId,
                owner));
  }

  /** Who runs a job: its status and the server holding its lease (null when none). */
  record Lease(String status, String owner) {}

  /** The job's status and lease owner, or null when there is no such job. */
  Lease lease(String id) {
    return db.tx(
        c ->
            one(
                c,
                r -> new Lease(r.getString("status"), r.getString("lease_owner")),
                "SELECT status, lease_owner FROM jobs WHERE id = ?",
                id));
  }

  /** Keeps the worker's claim alive; false when the job is no longer its own to run. */
  boolean renewLease(String id, String owner, long leaseSeconds) {
    return db.tx(
            c ->
                update(
                    c,
                    "UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ?"
                        + " AND status = 'running'",
                    now() + leaseSeconds,
                    id,
                    owner))
        > 0;
  }

  /** Gives a job back to the queue at once (its server is shutting down). */
  void releaseLease(String id, String owner) {
    db.tx(
        c ->
            update(
                c, "UPDATE jobs SET lease_until = 0 WHERE id = ? AND lease_owner = ?", id, owner));
  }

  /** Makes every running job claimable at once: a SQLite server starting is the only one. */
  void expireLeases() {
    db.tx(c -> update(c, "UPDATE jobs SET lease_until = 0 WHERE status = 'running'"));
  }

  private static Job job(ResultSet r) throws SQLException {
    return new Job(
        r.getString("id"),
        r.getString("project"),
        r.getString("status"),
        r.getString("request"),
        r.getString("model"),
        r.getString("fine_tuned_model"),
        r.getLong("created_at"),
        nullableLong(r, "finished_at"),
        nullableLong(r, "trained_tokens"),
        nullableLong(r, "estimated_finish"),
        r.getString("error"),
        r.getString("result_file"),
        r.getString("run_dir"),
        r.getInt("model_deleted") != 0);
  }

  // --- events

  void addEvent(String jobId, String level, String type, String message, String data) {
    db.tx(
        c ->
            update(
                c,
                "INSERT INTO events (job_id, created_at, level, type, message, data)"
                    + " VALUES (?, ?, ?, ?, ?, ?)",
                jobId,
                now(),
                level,
                type,
                message,
                data));
  }

  /**
   * Adds an event written by the worker running the job, fenced by its lease: false, and nothing
   * written, when {@code owner} no longer holds it (a paused server whose job another resumed).
   */
  boolean addJobEvent(
      String jobId, String owner, String level, String type, String message, String data) {
    return db.tx(
            c ->
                update(
                    c,
                    "INSERT INTO events (job_id, created_at, level, type, message, data)"
                        + " SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM jobs"
                        + " WHERE id = ? AND lease_owner = ?)",
                    jobId,
                    now(),
                    level,
                    type,
                    message,
                    data,
                    jobId,
                    owner))
        > 0;
  }

  /**
   * Deletes a job's metrics events past {@code step}: a resumed run trains those steps again from
   * its checkpoint and reports them anew, and the list must show each step once.
   *
   * @return how many were deleted
   */
  int deleteMetricsAfter(String jobId, long step) {
    return db.tx(
        c -> {
          List<Long> stale = new ArrayList<>();
          for (Event e :
              all(
                  c,
                  r ->
                      new Event(r.getLong("seq"), jobId, 0, "", "metrics", "", r.getString("data")),
                  "SELECT seq, data FROM events WHERE job_id = ? AND type = 'metrics'",
                  jobId)) {
            JsonNode data = Http.tree(e.data());
            if (data != null && data.path("step").asLong(0) > step) {
              stale.add(e.seq());
            }
          }
          for (long seq : stale) {
            update(c, "DELETE FROM events WHERE seq = ?", seq);
          }
          return stale.size();
        });
  }

  /**
   * A job's events after {@code afterSeq} (exclusive; 0 for all in ascending order, {@code
   * Long.MAX_VALUE} for all in descending order).
   */
  Page<Event> events(String jobId, long afterSeq, int limit, boolean ascending) {
    return db.tx(
        c ->
            page(
                all(
                    c,
                    r ->
                        new Event(
                            r.getLong("seq"),
                            r.getString("job_id"),
                            r.getLong("created_at"),
                            r.getString("level"),
                            r.getString("type"),
                            r.getString("message"),
                            r.getString("data")),
                    "SELECT * FROM events WHERE job_id = ? AND seq "
                        + (ascending ? ">" : "<")
                        + " ? ORDER BY seq "
                        + (ascending ? "ASC" : "DESC")
                        + " LIMIT ?",
                    jobId,
                    afterSeq,
                    limit + 1),
                limit));
  }

  // --- plumbing

  @FunctionalInterface
  private interface Row<T> {
    T of(ResultSet r) throws SQLException;
  }

  private static Long nullableLong(ResultSet r, String column) throws SQLException {
    long v = r.getLong(column);
    return r.wasNull() ? null : v;
  }

  private static Integer nullableInt(ResultSet r, String column) throws SQLException {
    int v = r.getInt(column);
    return r.wasNull() ? null : v;
  }

  private static <T> Page<T> page(List<T> rows, int limit) {
    return rows.size() > limit
        ? new Page<>(List.copyOf(rows.subList(0, limit)), true)
        : new Page<>(rows, false);
  }

  private static PreparedStatement prepare(Connection c, String sql, Object... args)
      throws SQLException {
    PreparedStatement p = c.prepareStatement(sql);
    for (int i = 0; i < args.length; i++) {
      Object a = args[i];
      if (a == null) {
        p.setNull(i + 1, Types.NULL);
      } else if (a instanceof Long l) {
        p.setLong(i + 1, l);
      } else if (a instanceof Integer n) {
        p.setInt(i + 1, n);
      } else {
        p.setString(i + 1, a.toString());
      }
    }
    return p;
  }

  private static int update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement p = prepare(c, sql, args)) {
      return p.executeUpdate();
    }
  }

  private static <T> T one(Connection c, Row<T> row, String sql, Object... args)
      throws SQLException {
    List<T> all = all(c, row, sql, args);
    return all.isEmpty() ? null : all.get(0);
  }

  private static <T> List<T> all(Connection c, Row<T> row, String sql, Object... args)
      throws SQLException {
    List<T> out = new ArrayList<>();
    try (PreparedStatement p = prepare(c, sql, args);
        ResultSet r = p.executeQuery()) {
      while (r.next()) {
        out.add(row.of(r));
      }
    }
    return out;
  }

  @Override
  public void close() {
    db.close();
  }
}
