package dev.whet.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.WhetException;
import dev.whet.io.Json;
import dev.whet.train.JobConfig;
import dev.whet.train.Training;
import io.javalin.Javalin;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded load test of {@code POST /v1/whet/classify} on loopback: a fixed number of requests
 * (one text each) from a fixed number of concurrent clients, against the single-request latency of
 * one client alone. Used by {@code whet bench serve} and by the load test in the suite.
 */
public final class ServeBench {
  private static final ObjectMapper JSON = Json.MAPPER;

  private ServeBench() {}

  /**
   * @param singleP50Ms and {@code singleP99Ms}: one client, one request at a time
   * @param p50Ms and {@code p99Ms}, {@code maxMs}: per request under concurrent load
   * @param throughput requests per second under load
   * @param statuses how many answers had each HTTP status ({@code -1}: no answer)
   */
  public record Result(
      int clients,
      int requests,
      int errors,
      double seconds,
      double throughput,
      double p50Ms,
      double p99Ms,
      double maxMs,
      int singles,
      double singleP50Ms,
      double singleP99Ms,
      Map<Integer, Integer> statuses) {}

  /**
   * A server with only the inference routes, on a free loopback port, configured as {@link
   * WhetServer} configures its app (virtual request threads); every request is project "bench".
   */
  public static final class Server implements AutoCloseable {
    private final Javalin app;
    private final InferenceRoutes routes;

    public Server(String modelId, Path modelDir) {
      routes =
          new InferenceRoutes(
              (caller, id) -> {
                if (!id.equals(modelId)) {
                  throw ApiError.notFound("model", id);
                }
                return modelDir;
              });
      app =
          Javalin.create(
                  config -> {
                    config.showJavalinBanner = false;
                    config.useVirtualThreads = true;
                  })
              .before(ctx -> new Caller("bench", "bench").attachTo(ctx))
              .exception(ApiError.class, (e, ctx) -> ctx.status(e.status()).json(e.body()))
              .exception(
                  Exception.class,
                  (e, ctx) ->
                      ctx.status(500)
                          .json(ApiError.body("internal error", "server_error", null, null)));
      routes.register(app);
      app.start("127.0.0.1", 0);
    }

    public String apiBase() {
      return "http://127.0.0.1:" + app.port() + "/v1";
    }

    @Override
    public void close() {
      app.stop();
      routes.close();
    }
  }

  /**
   * Fine-tunes a small sentiment classifier from {@code base} for a few steps on generated
   * sentences: a real fine-tuned model directory to serve, made in seconds.
   */
  public static Path trainClassifier(Path workDir, String base, int steps) {
    try {
      Files.createDirectories(workDir);
      List<String> lines = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        boolean good = i % 2 == 0;
        String text = sentence(i, good);
        lines.add(
            JSON.writeValueAsString(Map.of("text", text, "label", good ? "positive" : "negative")));
      }
      Path train = Files.write(workDir.resolve("train.jsonl"), lines);
      JobConfig job = new JobConfig();
      job.base = base;
      job.train = train.toString();
      job.out = workDir.resolve("run").toString();
      job.maxSteps = steps;
      job.batchSize = 16;
      job.maxLength = 32;
      job.lr = "1e-4";
      job.evaluate = false;
      return Training.start(job, List.of()).modelDir();
    } catch (IOException e) {
      throw new WhetException(
          workDir + ": cannot write the training data (" + e.getMessage() + ")");
    }
  }

  private static final String[] SUBJECTS = {
    "The film", "This phone", "The hotel", "Our dinner", "The concert", "This book", "The service"
  };
  private static final String[] GOOD = {
    "was wonderful", "exceeded every expectation", "made my day", "is worth every penny"
  };
  private static final String[] BAD = {
    "was a waste of time", "broke after a week", "left us disappointed", "is not worth it"
  };

  /** A short review, positive or negative, varied by {@code i}. */
  static String sentence(int i, boolean good) {
    String[] verbs = good ? GOOD : BAD;
    return SUBJECTS[i % SUBJECTS.length]
        + " "
        + verbs[(i / SUBJECTS.length) % verbs.length]
        + (i % 3 == 0 ? ", honestly." : ".");
  }

  /**
   * Measures: {@code singles} sequential requests from one client, then {@code requests} requests
   * shared among {@code clients} concurrent clients (each sends its next request as soon as the
   * last one is answered).
   */
  public static Result run(String apiBase, String model, int clients, int requests, int singles)
      throws InterruptedException {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    URI uri = URI.create(apiBase + "/whet/classify");
    Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    // Warm-up: the model loads on the first request, and the JIT settles.
    for (int i = 0; i < 5; i++) {
      send(http, uri, model, i, statuses);
    }
    statuses.clear();
    long[] single = new long[singles];
    for (int i = 0; i < singles; i++) {
      long t0 = System.nanoTime();
      send(http, uri, model, i, statuses);
      single[i] = System.nanoTime() - t0;
    }
    long[] latency = new long[requests];
    AtomicInteger next = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    long start = System.nanoTime();
    for (int c = 0; c < clients; c++) {
      Thread t =
          Thread.ofPlatform()
              .name("bench-client-" + c)
              .start(
                  () -> {
                    for (int i = next.getAndIncrement(); i < requests; i = next.getAndIncrement()) {
                      long t0 = System.nanoTime();
                      if (!send(http, uri, model, i, statuses)) {
                        errors.incrementAndGet();
                      }
                      latency[i] = System.nanoTime() - t0;
                    }
                  });
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    http.close();
    Arrays.sort(latency);
    Arrays.sort(single);
    return new Result(
        clients,
        requests,
        errors.get(),
        seconds,
        requests / seconds,
        ms(percentile(latency, 0.50)),
        ms(percentile(latency, 0.99)),
        ms(latency[latency.length - 1]),
        singles,
        singles > 0 ? ms(percentile(single, 0.50)) : Double.NaN,
        singles > 0 ? ms(percentile(single, 0.99)) : Double.NaN,
        new TreeMap<>(statuses));
  }

  /** One classify request; true when it was answered 200 with one classification. */
  private static boolean send(
      HttpClient http, URI uri, String model, int i, Map<Integer, Integer> statuses) {
    try {
      String body =
          JSON.writeValueAsString(Map.of("model", model, "input", sentence(i, i % 2 == 0)));
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(uri)
                  .header("Authorization", "Bearer bench")
                  .header("Content-Type", "application/json")
                  .timeout(Duration.ofSeconds(60))
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      statuses.merge(r.statusCode(), 1, Integer::sum);
      return r.statusCode() == 200 && r.body().contains("\"classification\"");
    } catch (IOException e) {
      statuses.merge(-1, 1, Integer::sum);
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Nearest-rank percentile of sorted values. */
  static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
