package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Issue 16, item 13: one log line per request (method, path, status, milliseconds, project, request
 * id, never the key), the request id also in the response's {@code x-request-id}.
 */
class ServerLogTest {
  @TempDir static Path dir;
  static TestServer s;
  static final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  static Logger whet;

  @BeforeAll
  static void start() {
    whet = (Logger) LoggerFactory.getLogger("whet");
    whet.setLevel(Level.INFO); // as `whet serve` does by default
    lines.start();
    ((Logger) LoggerFactory.getLogger("whet.http")).addAppender(lines);
    s = TestServer.start(dir.resolve("home"), b -> b.worker(false));
  }

  @AfterAll
  static void stop() {
    s.close();
    ((Logger) LoggerFactory.getLogger("whet.http")).detachAppender(lines);
    whet.setLevel(Level.WARN);
  }

  private static HttpResponse<String> get(String path, String bearer) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(s.url(path))).GET();
    if (bearer != null) {
      r.header("Authorization", "Bearer " + bearer);
    }
    return s.http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String lineFor(String requestId) throws InterruptedException {
    for (int i = 0; i < 100; i++) { // the line is written as the response completes
      for (ILoggingEvent e : List.copyOf(lines.list)) {
        if (e.getFormattedMessage().endsWith("request=" + requestId)) {
          return e.getFormattedMessage();
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no log line for " + requestId + " in " + lines.list);
  }

  @Test
  void theLoggingConfigurationLoadsWithoutErrors() {
    var context = (ch.qos.logback.classic.LoggerContext) LoggerFactory.getILoggerFactory();
    var status = new ch.qos.logback.core.status.StatusUtil(context);
    assertTrue(
        status.getHighestLevel(0) < ch.qos.logback.core.status.Status.ERROR,
        "logback.xml: " + context.getStatusManager().getCopyOfStatusList());
    assertEquals(
        Level.WARN, ((Logger) LoggerFactory.getLogger("org.eclipse.jetty")).getEffectiveLevel());
  }

  @Test
  void eachRequestIsOneLineWithItsIdAndNeverTheKey() throws Exception {
    HttpResponse<String> ok = get("/v1/files", s.key);
    assertEquals(200, ok.statusCode());
    String id = ok.headers().firstValue("x-request-id").orElseThrow();
    assertTrue(id.startsWith("req_"), id);
    String line = lineFor(id);
    assertTrue(line.matches("GET /v1/files 200 \\d+ms project=alpha request=" + id), line);

    HttpResponse<String> denied = get("/v1/files", "whet-not-a-key");
    String deniedId = denied.headers().firstValue("x-request-id").orElseThrow();
    assertTrue(lineFor(deniedId).startsWith("GET /v1/files 401 "), lineFor(deniedId));
    assertTrue(lineFor(deniedId).contains("project=-"), lineFor(deniedId));

    for (ILoggingEvent e : List.copyOf(lines.list)) {
      assertFalse(e.getFormattedMessage().contains(s.key), "the key was logged: " + e);
      assertFalse(e.getFormattedMessage().contains("whet-not-a-key"), "a key was logged: " + e);
    }
    assertFalse(id.equals(deniedId), "each request has its own id");
  }
}
