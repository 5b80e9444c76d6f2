package dev.whet.server;

import dev.whet.WhetException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The service database: SQLite (one file in WHET_HOME, WAL mode, one process) or PostgreSQL (shared
 * by several servers). Hands out connections inside transactions and runs the schema migrations
 * ({@link #MIGRATIONS}) when opened. Only the DDL differs between the two; every query in {@link
 * Store} is plain SQL both understand.
 */
final class Db implements AutoCloseable {
  enum Dialect {
    SQLITE,
    POSTGRES
  }

  /**
   * The schema, one step per version, applied in order and never edited once released: a change is
   * a new step. {@code {serial}} becomes each dialect's auto-increment primary key.
   */
  static final List<String> MIGRATIONS =
      List.of(
          """
          CREATE TABLE keys (
            seq {serial}, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, project TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, revoked_at BIGINT)""",
          """
          CREATE TABLE files (
            seq {serial}, id TEXT NOT NULL UNIQUE, project TEXT NOT NULL, filename TEXT NOT NULL,
            purpose TEXT NOT NULL, bytes BIGINT NOT NULL, sha256 TEXT NOT NULL,
            format TEXT NOT NULL, task TEXT, examples INTEGER, created_at BIGINT NOT NULL)""",
          "CREATE INDEX files_project ON files (project, seq)",
          """
          CREATE TABLE jobs (
            seq {serial}, id TEXT NOT NULL UNIQUE, project TEXT NOT NULL, status TEXT NOT NULL,
            request TEXT NOT NULL, model TEXT NOT NULL, fine_tuned_model TEXT,
            created_at BIGINT NOT NULL, finished_at BIGINT, trained_tokens BIGINT,
            estimated_finish BIGINT, error TEXT, result_file TEXT, run_dir TEXT NOT NULL,
            lease_owner TEXT, lease_until BIGINT, model_deleted INTEGER NOT NULL DEFAULT 0)""",
          "CREATE INDEX jobs_project ON jobs (project, seq)",
          "CREATE INDEX jobs_status ON jobs (status, seq)",
          """
          CREATE TABLE events (
            seq {serial}, job_id TEXT NOT NULL, created_at BIGINT NOT NULL, level TEXT NOT NULL,
            type TEXT NOT NULL, message TEXT NOT NULL, data TEXT)""",
          "CREATE INDEX events_job ON events (job_id, seq)",
          // When a worker last claimed the job (ms): claims go round the projects (Store.claim).
          "ALTER TABLE jobs ADD COLUMN claimed_at BIGINT",
          // What an upload is for: train, validation or test (FileRoutes.role), so forms default
          // well.
          "ALTER TABLE files ADD COLUMN role TEXT",
          // Chat completions served, and what their users said of them (FeedbackRoutes).
          """
          CREATE TABLE completions (
            seq {serial}, id TEXT NOT NULL UNIQUE, project TEXT NOT NULL, model TEXT NOT NULL,
            messages TEXT NOT NULL, reply TEXT NOT NULL, created_at BIGINT NOT NULL)""",
          """
          CREATE TABLE feedback (
            seq {serial}, id TEXT NOT NULL UNIQUE, project TEXT NOT NULL,
            completion_id TEXT NOT NULL, rating INTEGER, preferred TEXT, comment TEXT,
            created_at BIGINT NOT NULL)""",
          "CREATE INDEX feedback_project ON feedback (project, seq)",
          // A job trained by several servers (whet.workers): where its group meets, and who joined.
          "ALTER TABLE jobs ADD COLUMN rendezvous TEXT",
          """
          CREATE TABLE job_members (
            job_id TEXT NOT NULL, epoch TEXT NOT NULL, rank INTEGER NOT NULL, owner TEXT NOT NULL,
            UNIQUE (job_id, epoch, rank))""");

  @FunctionalInterface
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private final Dialect dialect;
  private final String jdbcUrl;
  private final BlockingQueue<Connection> idle;
  private final AtomicInteger open = new AtomicInteger();
  private final int maxConnections;

  private Db(Dialect dialect, String jdbcUrl, int maxConnections) {
    this.dialect = dialect;
    this.jdbcUrl = jdbcUrl;
    this.maxConnections = maxConnections;
    this.idle = new ArrayBlockingQueue<>(maxConnections);
  }

  /**
   * Opens the database named by {@code url} ({@code postgresql://user:pass@host:port/db}, a {@code
   * jdbc:} URL, or null for SQLite at {@code home/whet.db}) and brings its schema up to date.
   */
  static Db open(String url, Path home) {
    Db db;
    if (url == null || url.isBlank()) {
      try {
        Files.createDirectories(home);
      } catch (java.io.IOException e) {
        throw new WhetException(home + ": cannot create WHET_HOME (" + e.getMessage() + ")", e);
      }
      db = new Db(Dialect.SQLITE, "jdbc:sqlite:" + home.resolve("whet.db"), 1);
    } else if (url.startsWith("jdbc:sqlite:")) {
      db = new Db(Dialect.SQLITE, url, 1);
    } else if (url.startsWith("jdbc:postgresql:")) {
      db = new Db(Dialect.POSTGRES, url, 8);
    } else if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
      db = new Db(Dialect.POSTGRES, jdbcOf(URI.create(url)), 8);
    } else {
      throw new WhetException(
          "--db '"
              + url
              + "': give postgresql://user:password@host:port/database or a jdbc: URL (SQLite in"
              + " WHET_HOME is the default)");
    }
    db.migrate();
    return db;
  }

  /** {@code postgresql://user:pass@host:port/db?x=y} as the driver's JDBC URL. */
  static String jdbcOf(URI uri) {
    StringBuilder s = new StringBuilder("jdbc:postgresql://").append(uri.getHost());
    if (uri.getPort() > 0) {
      s.append(':').append(uri.getPort());
    }
    s.append(uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath());
    String sep = "?";
    if (uri.getRawQuery() != null) {
      s.append('?').append(uri.getRawQuery());
      sep = "&";
    }
    String info = uri.getRawUserInfo();
    if (info != null) {
      int colon = info.indexOf(':');
      String user = colon < 0 ? info : info.substring(0, colon);
      s.append(sep).append("user=").append(decode(user));
      if (colon >= 0) {
        s.append("&password=").append(decode(info.substring(colon + 1)));
      }
    }
    return s.toString();
  }

  private static String decode(String s) {
    return java.net.URLEncoder.encode(
        URLDecoder.decode(s, StandardCharsets.UTF_8), StandardCharsets.UTF_8);
  }

  Dialect dialect() {
    return dialect;
  }

  /**
   * Runs {@code work} in one transaction: committed when it returns, rolled back when it throws.
   */
  <T> T tx(Work<T> work) {
    Connection c = borrow();
    boolean ok = false;
    try {
      T result = work.run(c);
      c.commit();
      ok = true;
      return result;
    } catch (SQLException e) {
      throw new IllegalStateException("database: " + e.getMessage(), e);
    } finally {
      if (!ok) {
        try {
          c.rollback();
        } catch (SQLException ignored) {
          // the connection is dropped below if it is broken
        }
      }
      giveBack(c);
    }
  }

  private Connection borrow() {
    try {
      while (true) {
        Connection c = idle.poll();
        if (c != null) {
          if (dialect == Dialect.SQLITE || c.isValid(2)) {
            return c;
          }
          closeQuietly(c);
          open.decrementAndGet();
          continue;
        }
        if (open.incrementAndGet() <= maxConnections) {
          try {
            return connect();
          } catch (SQLException e) {
            open.decrementAndGet();
            throw new IllegalStateException("database: cannot connect (" + e.getMessage() + ")", e);
          }
        }
        open.decrementAndGet();
        c = idle.poll(30, TimeUnit.SECONDS);
        if (c != null) {
          return c;
        }
      }
    } catch (InterruptedException | SQLException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("database: interrupted while waiting for a connection", e);
    }
  }

  private void giveBack(Connection c) {
    if (!idle.offer(c)) {
      closeQuietly(c);
      open.decrementAndGet();
    }
  }

  private Connection connect() throws SQLException {
    Connection c = DriverManager.getConnection(jdbcUrl);
    if (dialect == Dialect.SQLITE) {
      try (Statement s = c.createStatement()) {
        // WAL: readers never block the writer; NORMAL is durable against a killed process.
        s.execute("PRAGMA journal_mode=WAL");
        s.execute("PRAGMA synchronous=NORMAL");
        s.execute("PRAGMA busy_timeout=10000");
      }
    }
    c.setAutoCommit(false);
    return c;
  }

  private void migrate() {
    tx(
        c -> {
          try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
            if (dialect == Dialect.POSTGRES) {
              // Two servers starting at once: the second waits here, then finds the work done.
              s.execute("LOCK TABLE schema_version IN EXCLUSIVE MODE");
            }
            int version = 0;
            try (ResultSet r = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
              if (r.next()) {
                version = r.getInt(1);
              }
            }
            for (int v = version; v < MIGRATIONS.size(); v++) {
              s.execute(
                  MIGRATIONS
                      .get(v)
                      .replace(
                          "{serial}",
                          dialect == Dialect.SQLITE
                              ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                              : "BIGSERIAL PRIMARY KEY"));
              try (PreparedStatement p =
                  c.prepareStatement("INSERT INTO schema_version (version) VALUES (?)")) {
                p.setInt(1, v + 1);
                p.executeUpdate();
              }
            }
          }
          return null;
        });
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // closing a broken connection
    }
  }

  @Override
  public void close() {
    Connection c;
    while ((c = idle.poll()) != null) {
      closeQuietly(c);
    }
  }
}
