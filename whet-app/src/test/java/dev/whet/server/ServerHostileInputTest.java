package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests a hostile or broken client sends (issue 16): each gets a 4xx in OpenAI's error shape at
 * once, never a 500 or a wait. Raw sockets where an HTTP client would refuse to send the bytes.
 */
class ServerHostileInputTest {
  @TempDir static Path dir;
  static TestServer s;

  @BeforeAll
  static void start() {
    s = TestServer.start(dir.resolve("home"), b -> b.maxUploadBytes(4096).worker(false));
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  @Test
  void jsonNestedBeyondTheParsersLimitIs400() {
    String deep = "{\"model\": " + "[".repeat(2000) + "]".repeat(2000) + "}";
    TestServer.Response r = s.post("/v1/fine_tuning/jobs", deep, s.key);
    ServerAuthTest.assertError(r, 400, "invalid_request_error");
    assertTrue(r.json().at("/error/message").asText().contains("not valid JSON"), r.body());
    assertTrue(r.json().at("/error/message").asText().contains("depth"), r.body());
  }

  @Test
  void aContentLengthBeyondTwoGigabytesIsRefusedBeforeTheBody() throws IOException {
    Raw r =
        raw(
            "POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + s.key
                + "\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 3000000000"
                + "\r\n\r\n--b\r\n");
    assertEquals(413, r.status, r.body);
    assertEquals("file_too_large", r.json().at("/error/code").asText(), r.body);
  }

  @Test
  void aBodyShorterThanItsContentLengthFromAClientThatStoppedSendingIs400() throws IOException {
    String body = "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n";
    Raw r =
        raw(
            "POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + s.key
                + "\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 2000"
                + "\r\n\r\n"
                + body,
            true);
    assertEquals(400, r.status, r.body);
    assertEquals("invalid_request_error", r.json().at("/error/type").asText(), r.body);
  }

  @Test
  void brokenMultipartIs400NotTooLarge() {
    String part =
        "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
            + "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n"
            + "{\"text\": \"a\", \"label\": \"x\"}\r\n";
    String[][] cases = {
      {"multipart/form-data", part + "--b--\r\n"}, // no boundary parameter
      {"multipart/form-data; boundary=other", part + "--b--\r\n"}, // a boundary the body lacks
      {"multipart/form-data; boundary=b", part}, // no closing boundary
    };
    for (String[] c : cases) {
      TestServer.Response r =
          s.send(
              java.net.http.HttpRequest.newBuilder(java.net.URI.create(s.url("/v1/files")))
                  .header("Content-Type", c[0])
                  .POST(java.net.http.HttpRequest.BodyPublishers.ofString(c[1])),
              s.key);
      System.out.println("broken multipart (" + c[0] + "): " + r.body());
      ServerAuthTest.assertError(r, 400, "invalid_request_error");
    }
  }

  @Test
  void aFilenameThatCannotBeAFileNameIs400() throws IOException {
    byte[] ok = "{\"text\": \"a\", \"label\": \"x\"}\n".getBytes(StandardCharsets.UTF_8);
    for (String name :
        new String[] {
          "a\u0000b.jsonl", "a\nb.jsonl", "a\r\nb.jsonl", "x".repeat(5000) + ".jsonl"
        }) {
      TestServer.Response r = s.upload("/v1/files", name, ok, "fine-tune", s.key);
      System.out.println("file name of " + name.length() + " chars: " + r.body());
      ServerAuthTest.assertError(r, 400, "invalid_request_error");
      assertEquals("file", r.json().at("/error/param").asText(), r.body());
    }
    try (var files = Files.list(s.home.resolve("files"))) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".upload-")));
    }
  }

  /** Item 5: what Jetty and Javalin refuse themselves comes in OpenAI's error shape too. */
  @Test
  void errorsFromTheHttpLayerAreOpenAiShapedJson() throws IOException {
    String auth = "Authorization: Bearer " + s.key + "\r\n";
    Raw big = raw("GET /v1/files HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n");
    assertShape(big, 431, "headers_too_large");
    for (String path :
        List.of(
            "/%2F../v1/files",
            "/v1/%2F../files",
            "/v1/files/%2F..%2Fx",
            "/v1/files/..%2F..%2F",
            "/%2e%2e/%2e%2e/x",
            "/v1/files/%2e%2e%5cx")) {
      Raw r = raw("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n");
      System.out.println("GET " + path + ": " + r.status + " " + r.body);
      assertShape(r, r.status == 404 ? 404 : 400, null);
    }
    assertShape(
        raw("POST /v1/files HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: -5\r\n\r\n"),
        400,
        null);
    TestServer.Response tooBig =
        s.post("/v1/fine_tuning/jobs", "{\"model\": \"" + "x".repeat(1_100_000) + "\"}", s.key);
    assertShape(new Raw(tooBig.status(), tooBig.body()), 413, "request_too_large");
  }

  /** OpenAI's error object with {@code status}, and {@code code} unless that is null. */
  static void assertShape(Raw r, int status, String code) {
    assertEquals(status, r.status, r.body);
    JsonNode e = r.json().get("error");
    assertTrue(e != null && e.get("message").asText().length() > 5, r.body);
    assertEquals("invalid_request_error", e.get("type").asText(), r.body);
    assertTrue(e.has("param") && e.has("code"), r.body);
    if (code != null) {
      assertEquals(code, e.get("code").asText(), r.body);
    }
  }

  /** A response read off a raw socket. */
  record Raw(int status, String body) {
    JsonNode json() {
      return new TestServer.Response(status, body).json();
    }
  }

  static Raw raw(String head) throws IOException {
    return raw(head, false);
  }

  /**
   * Sends {@code head} as is (then half-closes the connection when {@code stop}, as a client that
   * gave up) and reads the answer, giving up after 10 s: a wait is a failure.
   */
  static Raw raw(String head, boolean stop) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", s.server.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(head.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      if (stop) {
        socket.shutdownOutput();
      }
      InputStream in = socket.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      String text;
      while (true) {
        int n;
        try {
          n = in.read(buf);
        } catch (java.net.SocketTimeoutException e) {
          throw new AssertionError("no answer within 10 s; got: " + got);
        }
        if (n < 0) {
          break;
        }
        got.write(buf, 0, n);
        text = got.toString(StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (end > 0 && complete(text, end)) {
          break;
        }
      }
      text = got.toString(StandardCharsets.UTF_8);
      int status = Integer.parseInt(text.substring(9, 12));
      int end = text.indexOf("\r\n\r\n");
      assertFalse(end < 0, "no header end: " + text);
      return new Raw(status, text.substring(end + 4));
    }
  }

  private static boolean complete(String text, int headerEnd) {
    var m =
        java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)")
            .matcher(text.substring(0, headerEnd));
    return m.find() && text.length() - headerEnd - 4 >= Integer.parseInt(m.group(1));
  }
}
