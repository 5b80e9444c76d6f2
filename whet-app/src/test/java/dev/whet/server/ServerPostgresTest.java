package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PostgreSQL store on a throwaway cluster (initdb + pg_ctl of Debian's postgresql package, on a
 * free port, removed afterwards): migrations, two servers sharing one database, and job claims that
 * never hand one job to two workers.
 */
class ServerPostgresTest {
  /** The newest Debian PostgreSQL install's binaries (postgresql-15 on bookworm). */
  static final Path BIN = newestInstall();

  static Path newestInstall() {
    try (var versions = Files.list(Path.of("/usr/lib/postgresql"))) {
      return versions
          .map(v -> v.resolve("bin"))
          .filter(b -> Files.isExecutable(b.resolve("initdb")))
          .max(
              java.util.Comparator.comparingInt(
                  b ->
                      Integer.parseInt(
                          b.getParent().getFileName().toString().replaceAll("\\D", "0"))))
          .orElse(Path.of("/usr/lib/postgresql/15/bin"));
    } catch (IOException e) {
      return Path.of("/usr/lib/postgresql/15/bin");
    }
  }

  @TempDir static Path dir;
  static Path cluster;
  static String url;

  /** Runs a PostgreSQL tool as the current user, or as {@code postgres} when we are root. */
  static void pg(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    if ("root".equals(System.getProperty("user.name"))) {
      cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed:\n" + out);
    }
  }

  @BeforeAll
  static void startCluster() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(BIN.resolve("initdb")),
        "PostgreSQL (initdb, pg_ctl) is not installed under /usr/lib/postgresql (scripts/ci-deps.sh installs it); skipping");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    // Outside the test's private temp dir, so that the postgres user can reach it when we are root.
    cluster = Files.createTempDirectory(Path.of("/tmp"), "whet-pg-");
    Files.setPosixFilePermissions(
        cluster, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    Path data = cluster.resolve("data");
    pg(BIN.resolve("initdb").toString(), "-D", data.toString(), "-A", "trust", "-U", "whet");
    pg(
        BIN.resolve("pg_ctl").toString(),
        "-D",
        data.toString(),
        "-l",
        cluster.resolve("log").toString(),
        "-o",
        "-p " + port + " -k " + cluster + " -c listen_addresses=127.0.0.1",
        "-w",
        "start");
    url = "postgresql://whet@127.0.0.1:" + port + "/postgres";
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (cluster != null) {
      try {
        pg(
            BIN.resolve("pg_ctl").toString(),
            "-D",
            cluster.resolve("data").toString(),
            "-m",
            "immediate",
            "-w",
            "stop");
      } finally {
        new ProcessBuilder("rm", "-rf", cluster.toString()).start().waitFor();
      }
    }
  }

  @Test
  void twoServersShareOneDatabase() {
    Path homeA = dir.resolve("a");
    Path homeB = dir.resolve("b");
    String key;
    try (ApiKeys keys = ApiKeys.open(homeA, url)) {
      key = keys.create("shared", "team").key();
    }
    System.setProperty("whet.home", homeA.toString());
    try (WhetServer a = WhetServer.builder().home(homeA).db(url).port(0).worker(false).start();
        WhetServer b = WhetServer.builder().home(homeA).db(url).port(0).worker(false).start()) {
      TestServer.Response up = upload(a, key);
      assertEquals(200, up.status(), up.body());
      String id = up.json().get("id").asText();
      TestServer.Response seen = get(b, "/v1/files/" + id, key);
      assertEquals(200, seen.status(), seen.body());
      assertEquals(401, get(b, "/v1/files/" + id, "whet-nope").status());
    } finally {
      System.clearProperty("whet.home");
    }
    // Opening again finds the schema current and changes nothing.
    try (ApiKeys keys = ApiKeys.open(homeB, url)) {
      assertTrue(keys.list().stream().anyMatch(k -> k.project().equals("team")));
    }
  }

  @Test
  void concurrentWorkersNeverClaimTheSameJob() throws Exception {
    int jobs = 30;
    List<String> ids = new ArrayList<>();
    try (Store store = new Store(Db.open(url, dir.resolve("c")))) {
      for (int i = 0; i < jobs; i++) {
        String id = Store.newId("ftjob-");
        ids.add(id);
        store.insertJob(
            Store.Job.created(id, "claims", "queued", "{}", "tiny", "/nonexistent/" + id));
      }
    }
    ConcurrentHashMap<String, String> claimedBy = new ConcurrentHashMap<>();
    ConcurrentLinkedQueue<String> twice = new ConcurrentLinkedQueue<>();
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      String owner = "worker-" + w;
      Thread t =
          new Thread(
              () -> {
                try (Store store = new Store(Db.open(url, dir.resolve("c")))) {
                  Store.Job j;
                  while ((j = store.claim(owner, 600)) != null) {
                    if (claimedBy.putIfAbsent(j.id(), owner) != null) {
                      twice.add(j.id());
                    }
                  }
                }
              });
      workers.add(t);
      t.start();
    }
    for (Thread t : workers) {
      t.join(120_000);
    }
    assertTrue(twice.isEmpty(), "claimed twice: " + twice);
    assertTrue(claimedBy.keySet().containsAll(ids), "every job was claimed");

    // A running job is claimed again only once its server stopped renewing the lease.
    try (Store store = new Store(Db.open(url, dir.resolve("c")))) {
      String id = Store.newId("ftjob-");
      store.insertJob(Store.Job.created(id, "lease", "queued", "{}", "tiny", "/nonexistent/" + id));
      Store.Job first = store.claim("dying-server", 1);
      assertNotNull(first);
      while (first != null && !first.id().equals(id)) {
        first = store.claim("dying-server", 1); // drain anything left from other tests
      }
      assertNull(store.claim("other-server", 600), "the lease is still alive");
      Thread.sleep(2100);
      Store.Job again = store.claim("other-server", 600);
      assertNotNull(again, "an expired lease makes the job claimable");
      assertEquals(id, again.id());
      assertEquals("running", again.status(), "the claimer sees it was interrupted");
      assertTrue(!store.renewLease(id, "dying-server", 600), "the old owner lost it");
    }
  }

  /**
   * Issue 16, item 12: server A is paused (SIGSTOP) mid-job past its lease; server B takes the job
   * over and finishes it; when A wakes it must write nothing more of that job and stop training.
   */
  @Test
  void aPausedServerThatLostItsLeaseWritesNothingMore() throws Exception {
    Path home = dir.resolve("fenced");
    dev.whet.model.TinyBert.create(home.resolve("models").resolve("tiny"), 3);
    String key;
    try (ApiKeys keys = ApiKeys.open(home, url)) {
      key = keys.create("fence", "fence").key();
    }
    int portA;
    try (ServerSocket sock = new ServerSocket(0)) {
      portA = sock.getLocalPort();
    }
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dwhet.home=" + home,
                "-cp",
                System.getProperty("java.class.path"),
                dev.whet.cli.Main.class.getName(),
                "serve",
                "--db",
                url,
                "--port",
                Integer.toString(portA),
                "--train-threads",
                "1",
                "--lease-seconds",
                "2"));
    Path logA = dir.resolve("fenced-a.log");
    Process a =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(logA.toFile()).start();
    String base = "http://127.0.0.1:" + portA;
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (call(base, "GET", "/health", null, key) != 200 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      List<String> rows = new ArrayList<>();
      try (var in = dev.whet.model.TinyBert.class.getResourceAsStream("/data/sst2/dev-200.jsonl")) {
        rows.addAll(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
      }
      String file = uploadTo(base, String.join("\n", rows) + "\n", key);
      String job =
          TestServer.JSON
              .readTree(
                  body(
                      base,
                      "POST",
                      "/v1/fine_tuning/jobs",
                      """
                      {"model": "tiny", "training_file": "%s",
                       "hyperparameters": {"n_epochs": 4, "batch_size": 8},
                       "whet": {"max_length": 32, "save_every": 5, "evaluate": false}}
                      """
                          .formatted(file),
                      key))
              .get("id")
              .asText();
      Path run = home.resolve("runs").resolve(job);
      while (Files.notExists(run.resolve("checkpoint-5").resolve("trainer_state.json"))
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      signal(a, "STOP");
      Thread.sleep(3500); // past A's 2 s lease

      System.setProperty("whet.home", home.toString());
      try (WhetServer b =
          WhetServer.builder().home(home).db(url).port(0).leaseSeconds(2).trainThreads(1).start()) {
        String status = "";
        while (!status.equals("succeeded") && System.nanoTime() < deadline) {
          Thread.sleep(100);
          status = get(b, "/v1/fine_tuning/jobs/" + job, key).json().get("status").asText(status);
        }
        assertEquals("succeeded", status, "B finished the job A had started");
        // The status changes before B's closing events are written: wait for the last one.
        while (!events(b, job, key).toString().contains("The job has successfully completed")
            && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        int eventsBefore = events(b, job, key).size();

        signal(a, "CONT");
        long wait = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(logA).contains("another server holds its lease")
            && System.nanoTime() < wait) {
          Thread.sleep(100);
        }
        String logged = Files.readString(logA);
        assertTrue(logged.contains("another server holds its lease"), "A stopped:\n" + logged);
        List<String> after = events(b, job, key);
        assertEquals(eventsBefore, after.size(), "A wrote nothing after waking: " + after);
        assertEquals(
            "succeeded", get(b, "/v1/fine_tuning/jobs/" + job, key).json().get("status").asText());
      } finally {
        System.clearProperty("whet.home");
      }
    } finally {
      a.destroyForcibly();
      a.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /**
   * Issue 20: a job asking for {@code whet.workers: 2} is trained by two servers sharing the
   * database, one the job's own (rank 0, which writes the run), the other joining the group it
   * publishes; the model equals one server's training of the same job.
   */
  @Test
  void twoServersTrainOneJobTogether() throws Exception {
    Path home = dir.resolve("group");
    String key = groupHome(home);
    try (WhetServer a = WhetServer.builder().home(home).db(url).port(0).trainThreads(1).start();
        WhetServer b = WhetServer.builder().home(home).db(url).port(0).trainThreads(1).start()) {
      String file = upload(a, key).json().get("id").asText();
      String[] models = new String[2];
      for (int workers : new int[] {2, 1}) {
        String job =
            """
            {"model": "tiny-bert", "training_file": "%s", "seed": 3,
             "hyperparameters": {"n_epochs": 3, "batch_size": 4},
             "whet": {"workers": %d, "dropout": 0, "precision": "fp32", "evaluate": false,
                      "max_length": 32}}
            """
                .formatted(file, workers);
        TestServer.Response created = postJob(a, job, key);
        assertEquals(200, created.status(), created.body());
        String id = created.json().get("id").asText();
        var done = ended(a, id, key);
        assertEquals("succeeded", done.get("status").asText(), done.toString());
        Path model = Path.of(done.at("/whet/run_dir").asText()).resolve("model");
        models[workers - 1] = model.resolve("model.safetensors").toString();
        var info = TestServer.JSON.readTree(model.resolve("whet.json").toFile());
        if (workers == 2) {
          assertEquals(2, info.get("world_size").asInt(), info.toString());
          assertTrue(
              events(a, id, key).contains("Training on a group of 2 servers"),
              events(a, id, key).toString());
        } else {
          assertNull(info.get("world_size"), "one server alone");
        }
      }
      double worst = dev.whet.model.WeightDiff.maxAbs(Path.of(models[0]), Path.of(models[1]));
      System.out.println("two servers vs one: max |weight difference| = " + worst);
      assertTrue(worst <= 1e-5, "max abs weight difference " + worst);
    } finally {
      System.clearProperty("whet.home");
      System.clearProperty("whet.group.host");
    }
  }

  /**
   * Issue 20: a server of the group stops mid-run; the job's own server notices at the next
   * exchange, queues the job again, and it resumes from its checkpoint once another server joins.
   */
  @Test
  void aJobWhoseGroupLostAServerResumesWhenAnotherJoins() throws Exception {
    Path home = dir.resolve("lost");
    String key = groupHome(home);
    System.setProperty("whet.group.timeout", "10"); // B's loss noticed within 10 s
    String id = null;
    try (WhetServer a = WhetServer.builder().home(home).db(url).port(0).trainThreads(1).start()) {
      try {
        String file = upload(a, key).json().get("id").asText();
        String job =
            """
          {"model": "tiny-bert", "training_file": "%s", "seed": 3,
           "hyperparameters": {"n_epochs": 100, "batch_size": 4},
           "whet": {"workers": 2, "dropout": 0, "precision": "fp32", "evaluate": false,
                    "max_length": 32}}
          """
                .formatted(file);
        TestServer.Response created = postJob(a, job, key);
        assertEquals(200, created.status(), created.body());
        id = created.json().get("id").asText();
        // Server A alone cannot train it: it waits for a second server.
        Thread.sleep(1500);
        assertTrue(events(a, id, key).stream().anyMatch(e -> e.startsWith("Waiting for 1 more")));
        try (WhetServer b =
            WhetServer.builder().home(home).db(url).port(0).trainThreads(1).start()) {
          long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
          while (!events(a, id, key).contains("saved checkpoint-30")
              && System.nanoTime() < deadline) {
            Thread.sleep(50);
          }
        } // B stops mid-run
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (events(a, id, key).stream()
                .noneMatch(e -> e.startsWith("A server of the job's group"))
            && System.nanoTime() < deadline) {
          Thread.sleep(100);
        }
        assertTrue(
            events(a, id, key).stream().anyMatch(e -> e.startsWith("A server of the job's group")),
            events(a, id, key).toString());
        try (WhetServer c =
            WhetServer.builder().home(home).db(url).port(0).trainThreads(1).start()) {
          var done = ended(a, id, key);
          assertEquals("succeeded", done.get("status").asText(), done.toString());
          List<String> said = events(a, id, key);
          assertTrue(
              said.stream().anyMatch(e -> e.startsWith("Job resumed after interruption")),
              said.toString());
          var info =
              TestServer.JSON.readTree(
                  Path.of(done.at("/whet/run_dir").asText()).resolve("model/whet.json").toFile());
          assertEquals(2, info.get("world_size").asInt());
        }
      } finally {
        if (id != null) { // nothing left queued for the other tests' servers
          send(
              a,
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create(
                          "http://127.0.0.1:"
                              + a.port()
                              + "/v1/fine_tuning/jobs/"
                              + id
                              + "/cancel"))
                  .POST(java.net.http.HttpRequest.BodyPublishers.noBody()),
              key);
        }
      }
    } finally {
      System.clearProperty("whet.home");
      System.clearProperty("whet.group.host");
      System.clearProperty("whet.group.timeout");
    }
  }

  /**
   * A WHET_HOME with the tiny encoder as a base model, made this JVM's, its servers advertising
   * loopback to their groups; returns a key of its own project.
   */
  private static String groupHome(Path home) throws IOException {
    System.setProperty("whet.home", home.toString());
    System.setProperty("whet.group.host", "127.0.0.1");
    dev.whet.model.TinyBert.create(home.resolve("models").resolve("tiny-bert"), 3);
    try (ApiKeys keys = ApiKeys.open(home, url)) {
      return keys.create("group", home.getFileName().toString()).key();
    }
  }

  private static TestServer.Response postJob(WhetServer s, String json, String key) {
    return post(s, "/v1/fine_tuning/jobs", "application/json", json, key);
  }

  /** The job once it has ended (or after 3 minutes, as it then is). */
  private static com.fasterxml.jackson.databind.JsonNode ended(WhetServer s, String id, String key)
      throws InterruptedException {
    var job = get(s, "/v1/fine_tuning/jobs/" + id, key).json();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!List.of("succeeded", "failed", "cancelled").contains(job.get("status").asText())
        && System.nanoTime() < deadline) {
      Thread.sleep(200);
      job = get(s, "/v1/fine_tuning/jobs/" + id, key).json();
    }
    return job;
  }

  private static void signal(Process p, String signal) throws Exception {
    new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
  }

  private static List<String> events(WhetServer s, String job, String key) {
    List<String> out = new ArrayList<>();
    get(s, "/v1/fine_tuning/jobs/" + job + "/events?order=asc&limit=10000", key)
        .json()
        .get("data")
        .forEach(e -> out.add(e.get("message").asText()));
    return out;
  }

  private static int call(String base, String method, String path, String json, String key) {
    try {
      return request(base, method, path, json, key).statusCode();
    } catch (IOException e) {
      return -1; // not listening yet
    }
  }

  private static String body(String base, String method, String path, String json, String key)
      throws IOException {
    var r = request(base, method, path, json, key);
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }

  private static java.net.http.HttpResponse<String> request(
      String base, String method, String path, String json, String key) throws IOException {
    try {
      return java.net.http.HttpClient.newHttpClient()
          .send(
              java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + path))
                  .header("Authorization", "Bearer " + key)
                  .header("Content-Type", "application/json")
                  .method(
                      method,
                      json == null
                          ? java.net.http.HttpRequest.BodyPublishers.noBody()
                          : java.net.http.HttpRequest.BodyPublishers.ofString(json))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  private static String uploadTo(String base, String content, String key) throws IOException {
    String body =
        "--x\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
            + "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.jsonl\"\r\n\r\n"
            + content
            + "\r\n--x--\r\n";
    try {
      var r =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/v1/files"))
                      .header("Authorization", "Bearer " + key)
                      .header("Content-Type", "multipart/form-data; boundary=x")
                      .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      return TestServer.JSON.readTree(r.body()).get("id").asText();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  static TestServer.Response upload(WhetServer s, String key) {
    String body =
        "--x\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
            + "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.jsonl\"\r\n\r\n"
            + ServerAuthTest.DATA
            + "\r\n--x--\r\n";
    return post(s, "/v1/files", "multipart/form-data; boundary=x", body, key);
  }

  static TestServer.Response post(
      WhetServer s, String path, String contentType, String body, String key) {
    return send(
        s,
        java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + s.port() + path))
            .header("Content-Type", contentType)
            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)),
        key);
  }

  static TestServer.Response get(WhetServer s, String path, String key) {
    return send(
        s,
        java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + s.port() + path)),
        key);
  }

  static TestServer.Response send(WhetServer s, java.net.http.HttpRequest.Builder r, String key) {
    try {
      var resp =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  r.header("Authorization", "Bearer " + key).build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      return new TestServer.Response(resp.statusCode(), resp.body());
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }
}
