package dev.whet.cli;

import dev.whet.WhetHome;
import dev.whet.server.InferenceRoutes;
import dev.whet.server.JobLimits;
import dev.whet.server.WhetServer;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code whet serve}: the OpenAI-shaped fine-tuning and inference API, until killed. */
@Command(
    name = "serve",
    description =
        "Serve the HTTP API (files, fine-tuning jobs, models, inference) and run queued jobs.",
    mixinStandardHelpOptions = true,
    sortOptions = false)
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--port", paramLabel = "N", description = "Port (default 8080; 0 picks one).")
  int port = 8080;

  @Option(names = "--host", paramLabel = "ADDR", description = "Address to listen on.")
  String host = "127.0.0.1";

  @Option(
      names = "--db",
      paramLabel = "URL",
      description =
          "postgresql://user:password@host:port/db to share one queue between servers"
              + " (default: SQLite in WHET_HOME).")
  String db;

  @Option(
      names = "--max-upload-mb",
      paramLabel = "MB",
      description = "Largest file accepted by POST /v1/files (default 512).")
  long maxUploadMb = 512;

  @Option(
      names = "--train-threads",
      paramLabel = "N",
      description = "libtorch threads for training (default: all cores but one).")
  Integer trainThreads;

  @Option(names = "--no-worker", description = "Serve the API only; other servers run the jobs.")
  boolean noWorker;

  @Option(
      names = "--max-loaded-models",
      paramLabel = "N",
      defaultValue = "4",
      description =
          "Models kept in memory for inference; the least recently used is unloaded first"
              + " (default: ${DEFAULT-VALUE}).")
  int maxLoadedModels;

  @Option(
      names = "--max-epochs",
      paramLabel = "N",
      description = "Most epochs one job may ask for (default 100).")
  double maxEpochs = JobLimits.DEFAULTS.maxEpochs();

  @Option(
      names = "--max-steps",
      paramLabel = "N",
      description = "Most optimizer steps (whet.max_steps) one job may ask for (default 1000000).")
  long maxSteps = JobLimits.DEFAULTS.maxSteps();

  @Option(
      names = "--max-batch-size",
      paramLabel = "N",
      description = "Largest batch one job may ask for (default 1024).")
  int maxBatchSize = JobLimits.DEFAULTS.maxBatchSize();

  @Option(
      names = "--max-length",
      paramLabel = "TOKENS",
      description = "Longest whet.max_length one job may ask for (default 8192).")
  int maxLength = JobLimits.DEFAULTS.maxLength();

  @Option(
      names = "--max-lora-rank",
      paramLabel = "R",
      description = "Largest whet.lora.rank one job may ask for (default 256).")
  int maxLoraRank = JobLimits.DEFAULTS.maxLoraRank();

  @Option(
      names = "--max-keep-checkpoints",
      paramLabel = "N",
      description = "Most checkpoints one job may keep (whet.keep_checkpoints, default 20).")
  int maxKeepCheckpoints = JobLimits.DEFAULTS.maxKeepCheckpoints();

  @Option(
      names = "--max-job-hours",
      paramLabel = "H",
      description =
          "Longest estimated training time of one job on this machine (default 24): a job"
              + " estimated longer is refused at creation.")
  double maxJobHours = JobLimits.DEFAULTS.maxHours();

  @Option(
      names = "--max-job-memory",
      paramLabel = "GIB",
      description =
          "Most estimated memory of one job's training step, in GiB (default: this machine's"
              + " memory).")
  Double maxJobMemoryGib;

  @Option(
      names = "--max-project-disk",
      paramLabel = "GIB",
      description =
          "Disk one project may fill with its files and runs, in GiB (default: no quota); an"
              + " upload or a job past it is refused with 413 insufficient_quota.")
  Double maxProjectDiskGib;

  @Option(
      names = "--lease-seconds",
      paramLabel = "S",
      hidden = true,
      description =
          "How long a claim on a running job lasts without renewal (PostgreSQL failover; tests).")
  Long leaseSeconds;

  @Option(
      names = "--log-level",
      paramLabel = "LEVEL",
      defaultValue = "info",
      description =
          "Server log on stderr: info (one line per request, job events, errors), warn, error or"
              + " off (default: ${DEFAULT-VALUE}).")
  String logLevel;

  @Override
  public Integer call() throws InterruptedException {
    if (!java.util.List.of("info", "warn", "error", "off").contains(logLevel)) {
      throw new dev.whet.WhetException("--log-level must be info, warn, error or off");
    }
    // The CLI logs warnings only (logback.xml); the server's own loggers report at this level.
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("whet"))
        .setLevel(ch.qos.logback.classic.Level.toLevel(logLevel));
    WhetServer.Builder b =
        WhetServer.builder()
            .home(WhetHome.root())
            .db(db)
            .host(host)
            .port(port)
            .maxUploadBytes(maxUploadMb * 1024 * 1024)
            .worker(!noWorker);
    if (trainThreads != null) {
      b.trainThreads(trainThreads);
    }
    if (leaseSeconds != null) {
      b.leaseSeconds(leaseSeconds);
    }
    if (maxProjectDiskGib != null) {
      b.maxProjectDiskBytes((long) (maxProjectDiskGib * (1L << 30)));
    }
    b.limits(
        new JobLimits(
            maxEpochs,
            maxSteps,
            maxBatchSize,
            maxLength,
            maxLoraRank,
            maxKeepCheckpoints,
            maxJobHours,
            maxJobMemoryGib == null
                ? JobLimits.DEFAULTS.maxMemoryBytes()
                : (long) (maxJobMemoryGib * (1L << 30))));
    if (maxLoadedModels < 1) {
      throw new dev.whet.WhetException("--max-loaded-models must be at least 1");
    }
    InferenceRoutes.Options o = InferenceRoutes.Options.DEFAULT;
    InferenceRoutes.Options inferenceOptions =
        new InferenceRoutes.Options(
            maxLoadedModels, o.maxBatch(), o.maxWait(), o.maxQueued(), o.maxInputs());
    List<InferenceRoutes> inference = new CopyOnWriteArrayList<>();
    b.routesWithModels(
        models -> {
          InferenceRoutes r = new InferenceRoutes(models, inferenceOptions);
          inference.add(r);
          return r;
        });
    WhetServer server = b.start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close(); // a running job pauses at its next step and resumes later
                  inference.forEach(InferenceRoutes::close);
                  stopped.countDown();
                }));
    System.out.println("whet serve: listening on " + server.apiBase() + " (GET /health)");
    String base = server.apiBase();
    System.out.println(
        "whet serve: dashboard at " + base.substring(0, base.length() - "v1".length()));
    stopped.await();
    return 0;
  }
}
