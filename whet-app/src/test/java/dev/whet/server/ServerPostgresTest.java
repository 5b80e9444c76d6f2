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

  static TestServer.Response upload(WhetServer s, String key) {
    String body =
        "--x\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
            + "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.jsonl\"\r\n\r\n"
            + ServerAuthTest.DATA
            + "\r\n--x--\r\n";
    return send(
        s,
        java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + s.port() + "/v1/files"))
            .header("Content-Type", "multipart/form-data; boundary=x")
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
