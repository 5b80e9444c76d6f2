package dev.whet.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.whet.WhetException;
import dev.whet.WhetHome;
import io.javalin.Javalin;
import io.javalin.config.SizeUnit;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.staticfiles.Location;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Whet's HTTP service: the CLI's stages (data checks, training, evaluation) behind an OpenAI-shaped
 * API. Builds the Javalin app — the open {@code /health}, the bearer-key filter in front of
 * everything else, error mappers that always answer OpenAI's error object — registers the files,
 * jobs and models routes and any extra {@link Routes}, and runs the job {@link Worker}.
 *
 * <pre>{@code
 * WhetServer server = WhetServer.builder().port(0)
 *     .routesWithModels(models -> new InferenceRoutes(models)).start();
 * }</pre>
 */
public final class WhetServer implements AutoCloseable {
  /** Paths anyone may fetch: the health check and the dashboard's shell (it asks for a key). */
  static boolean isOpen(String path) {
    return path.equals("/health")
        || path.equals("/")
        || path.equals("/index.html")
        || path.startsWith("/assets/");
  }

  private final Builder options;
  private final Store store;
  private final ModelResolver models;
  private final Worker worker;
  private final Javalin app;
  private final FileChannel lockFile;

  private WhetServer(Builder b) {
    this.options = b;
    FileChannel lock = null;
    if (b.db == null || b.db.isBlank()) {
      lock = lockSqlite(b.home);
    }
    this.lockFile = lock;
    this.store = new Store(Db.open(b.db, b.home));
    this.models = new ModelResolver(store);
    if (store.dialect() == Db.Dialect.SQLITE) {
      // This process holds the SQLite file alone: whatever was running died with its server.
      store.expireLeases();
    }
    Blobs blobs = new Blobs(b.home.resolve("files"), b.maxUploadBytes);
    this.worker = new Worker(store, blobs, b.home, b.leaseSeconds, b.trainThreads);
    DiskQuota quota = new DiskQuota(store, b.maxProjectDiskBytes);
    List<Routes> routes = new ArrayList<>();
    routes.add(quota);
    routes.add(new FileRoutes(store, blobs, quota));
    routes.add(new JobRoutes(store, blobs, models, worker, b.home, b.limits, quota));
    routes.add(new ModelRoutes(store, models));
    routes.add(new FeedbackRoutes(store));
    for (Function<ModelResolver, Routes> r : b.routes) {
      routes.add(r.apply(models));
    }
    this.app = createApp(store, routes, b.maxUploadBytes);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Starts listening and the worker; returns once {@code /health} answers 200. */
  private WhetServer start() {
    app.start(options.host, options.port);
    if (options.worker) {
      worker.start();
    }
    return this;
  }

  public int port() {
    return app.port();
  }

  /** The base URL of the API, e.g. {@code http://127.0.0.1:8080/v1}. */
  public String apiBase() {
    return "http://" + options.host + ":" + port() + "/v1";
  }

  public ModelResolver models() {
    return models;
  }

  Store store() {
    return store;
  }

  @Override
  public void close() {
    worker.close();
    app.stop();
    store.close();
    if (lockFile != null) {
      try {
        lockFile.close();
      } catch (IOException ignored) {
        // released with the process anyway
      }
    }
  }

  /**
   * The dashboard's Content-Security-Policy, sent as a header: index.html's {@code <meta>} tag
   * holds the same directives, but a browser ignores {@code frame-ancestors} there, so only the
   * header stops another site from framing the page.
   */
  /** The request log: one line per request, at INFO (`whet serve --log-level`). */
  static final org.slf4j.Logger REQUESTS = org.slf4j.LoggerFactory.getLogger("whet.http");

  static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("whet.server");

  /** The request attribute (and response header x-request-id) naming each request. */
  static final String REQUEST_ID = "whet.request-id";

  static final String DASHBOARD_POLICY =
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'"
          + " data:; connect-src 'self'; frame-src blob:; base-uri 'none'; form-action 'none';"
          + " frame-ancestors 'none'";

  static Javalin createApp(Store store, List<Routes> routes, long maxUploadBytes) {
    Javalin app =
        Javalin.create(
            config -> {
              config.showJavalinBanner = false;
              config.useVirtualThreads = true;
              // Jetty refuses an oversize multipart part while streaming it; FileRoutes also
              // checks Content-Length first and caps what it copies.
              config.jetty.multipartConfig.maxFileSize(maxUploadBytes, SizeUnit.BYTES);
              config.jetty.multipartConfig.maxTotalRequestSize(
                  maxUploadBytes + 64 * 1024, SizeUnit.BYTES);
              config.jetty.multipartConfig.maxInMemoryFileSize(1, SizeUnit.MB);
              config.http.maxRequestSize = 1_000_000;
              // One line per request: method, path, status, time, project and request id, never
              // the key (the path and the caller carry none of it).
              config.requestLogger.http(
                  (ctx, ms) -> {
                    Caller caller = ctx.attribute(Caller.ATTRIBUTE);
                    REQUESTS.info(
                        "{} {} {} {}ms project={} request={}",
                        ctx.method(),
                        ctx.path(),
                        ctx.statusCode(),
                        Math.round(ms),
                        caller == null ? "-" : caller.project(),
                        ctx.attribute(REQUEST_ID));
                  });
              // Jetty's own refusals (header too large, ambiguous path) in OpenAI's error shape.
              config.jetty.modifyServer(server -> server.setErrorHandler(new JsonErrorHandler()));
              config.jetty.modifyServletContextHandler(
                  context -> context.setErrorHandler(new JsonErrorHandler()));
              // The dashboard: static files from the classpath folder /dashboard at /, open (see
              // isOpen); the page asks for a key and sends it with every API call.
              config.staticFiles.add(
                  files -> {
                    files.hostedPath = "/";
                    files.directory = "/dashboard";
                    files.location = Location.CLASSPATH;
                    files.headers =
                        Map.of(
                            "Cache-Control",
                            "no-cache",
                            "Content-Security-Policy",
                            DASHBOARD_POLICY,
                            "X-Content-Type-Options",
                            "nosniff");
                  });
            });
    app.before(
        ctx -> {
          // Sent back as OpenAI does, and written on the request's log lines: a user's report
          // of a failure can be found in the log.
          String id = "req_" + Store.newId("");
          ctx.attribute(REQUEST_ID, id);
          ctx.header("x-request-id", id);
        });
    app.get("/health", ctx -> ctx.json(Map.of("status", "ok")));
    app.before(
        ctx -> {
          if (isOpen(ctx.path()) || ctx.method().name().equals("OPTIONS")) {
            return;
          }
          String header = ctx.header("Authorization");
          if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiError.unauthorized(
                "Missing API key: send 'Authorization: Bearer <key>' (create one with `whet keys"
                    + " create --name NAME`).");
          }
          Store.Key key = store.keyBySecret(header.substring(7).trim());
          if (key == null) {
            throw ApiError.unauthorized("Incorrect API key provided (unknown or revoked).");
          }
          new Caller(key.project(), key.id()).attachTo(ctx);
        });
    app.before(ctx -> ctx.header("X-Content-Type-Options", "nosniff"));
    app.exception(ApiError.class, (e, ctx) -> ctx.status(e.status()).json(e.body()));
    app.exception(
        JsonProcessingException.class,
        (e, ctx) ->
            error(
                ctx,
                400,
                "We could not parse the JSON body of your request: "
                    + e.getOriginalMessage()
                    + ". Send valid JSON with 'Content-Type: application/json'.",
                null));
    app.exception(
        HttpResponseException.class,
        (e, ctx) ->
            ctx.status(e.getStatus())
                .json(
                    ApiError.body(
                        e.getMessage(),
                        "invalid_request_error",
                        null,
                        JsonErrorHandler.codeFor(e.getStatus()))));
    app.exception(
        WhetException.class, (e, ctx) -> error(ctx, 400, e.getMessage(), null)); // a user's fix
    app.exception(
        Exception.class,
        (e, ctx) -> {
          String id = ctx.attribute(REQUEST_ID);
          LOG.error("internal error on {} {} request={}", ctx.method(), ctx.path(), id, e);
          ctx.status(500)
              .json(
                  ApiError.body(
                      "internal error (request " + id + "; the server's log has the details)",
                      "server_error",
                      null,
                      "internal_error"));
        });
    app.error(
        404,
        ctx -> {
          if (ctx.result() == null) {
            error(ctx, 404, "Unknown endpoint: " + ctx.method() + " " + ctx.path(), null);
          }
        });
    app.error(
        405,
        ctx -> {
          if (ctx.result() == null) {
            error(ctx, 405, "Method not allowed: " + ctx.method() + " " + ctx.path(), null);
          }
        });
    for (Routes r : routes) {
      r.register(app);
    }
    return app;
  }

  private static void error(Context ctx, int status, String message, String param) {
    ctx.status(status).json(ApiError.body(message, "invalid_request_error", param, null));
  }

  /** SQLite is one process's database: a second server on the same WHET_HOME is refused. */
  private static FileChannel lockSqlite(Path home) {
    try {
      Files.createDirectories(home);
      FileChannel ch =
          FileChannel.open(
              home.resolve("whet.db.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock = ch.tryLock();
      if (lock == null) {
        ch.close();
        throw new WhetException(
            home
                + ": another `whet serve` is using this WHET_HOME's SQLite database; stop it, use"
                + " another WHET_HOME, or share a PostgreSQL database with --db postgresql://...");
      }
      return ch;
    } catch (IOException e) {
      throw new WhetException(home + ": cannot lock the database (" + e.getMessage() + ")", e);
    } catch (java.nio.channels.OverlappingFileLockException e) {
      throw new WhetException(
          home + ": this process already serves this WHET_HOME's SQLite database", e);
    }
  }

  /** What a server is built from; every setting has a default. */
  public static final class Builder {
    Path home = WhetHome.root();
    String db;
    String host = "127.0.0.1";
    int port = 8080;
    long maxUploadBytes = 512L * 1024 * 1024;
    long leaseSeconds = 30;
    int trainThreads = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    JobLimits limits = JobLimits.DEFAULTS;
    long maxProjectDiskBytes;
    boolean worker = true;
    final List<Function<ModelResolver, Routes>> routes = new ArrayList<>();

    public Builder home(Path home) {
      this.home = home;
      return this;
    }

    /** {@code postgresql://user:pass@host:port/db}, a jdbc: URL, or null for SQLite in home. */
    public Builder db(String url) {
      this.db = url;
      return this;
    }

    public Builder host(String host) {
      this.host = host;
      return this;
    }

    /** 0 picks a free port. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    public Builder maxUploadBytes(long bytes) {
      this.maxUploadBytes = bytes;
      return this;
    }

    /** How long a server's claim on a running job lasts without renewal (PostgreSQL failover). */
    public Builder leaseSeconds(long seconds) {
      this.leaseSeconds = seconds;
      return this;
    }

    /** libtorch intra-op threads for training (default: all cores but one, for inference). */
    public Builder trainThreads(int n) {
      this.trainThreads = n;
      return this;
    }

    /** What one job may ask for ({@code whet.threads} is bounded by {@link #trainThreads}). */
    public Builder limits(JobLimits limits) {
      this.limits = limits;
      return this;
    }

    /** Each project's disk quota: its files and run directories (0, the default: none). */
    public Builder maxProjectDiskBytes(long bytes) {
      this.maxProjectDiskBytes = bytes;
      return this;
    }

    /** Whether this server runs jobs (false: API only, jobs wait for a server that does). */
    public Builder worker(boolean on) {
      this.worker = on;
      return this;
    }

    public Builder routes(Routes r) {
      routes.add(models -> r);
      return this;
    }

    /** Routes that need the model resolver, e.g. {@code models -> new InferenceRoutes(...)}. */
    public Builder routesWithModels(Function<ModelResolver, Routes> r) {
      routes.add(r);
      return this;
    }

    /** Opens the database (migrating it), starts serving and the worker. */
    public WhetServer start() {
      WhetServer s = new WhetServer(this);
      try {
        return s.start();
      } catch (RuntimeException e) {
        s.close();
        throw e;
      }
    }
  }
}
