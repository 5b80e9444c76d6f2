package dev.whet.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * A server on a free port over a temporary WHET_HOME, with a key for project "alpha" and one for
 * project "beta", and a plain HTTP client for the tests that check raw status codes and bodies.
 */
final class TestServer implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  record Response(int status, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + body, e);
      }
    }
  }

  final Path home;
  final WhetServer server;
  final String key;
  final String otherKey;
  final HttpClient http = HttpClient.newHttpClient();

  private TestServer(Path home, WhetServer server, String key, String otherKey) {
    this.home = home;
    this.server = server;
    this.key = key;
    this.otherKey = otherKey;
  }

  static TestServer start(Path home, Consumer<WhetServer.Builder> options) {
    System.setProperty("whet.home", home.toString());
    String alpha;
    String beta;
    try (ApiKeys keys = ApiKeys.open(home, null)) {
      alpha = keys.create("test", "alpha").key();
      beta = keys.create("other", "beta").key();
    }
    WhetServer.Builder b = WhetServer.builder().home(home).port(0);
    options.accept(b);
    return new TestServer(home, b.start(), alpha, beta);
  }

  String url(String path) {
    return "http://127.0.0.1:" + server.port() + path;
  }

  Response send(HttpRequest.Builder request, String bearer) {
    if (bearer != null) {
      request.header("Authorization", "Bearer " + bearer);
    }
    try {
      HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new Response(r.statusCode(), r.body());
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  Response get(String path, String bearer) {
    return send(HttpRequest.newBuilder(URI.create(url(path))).GET(), bearer);
  }

  Response delete(String path, String bearer) {
    return send(HttpRequest.newBuilder(URI.create(url(path))).DELETE(), bearer);
  }

  Response post(String path, String json, String bearer) {
    return send(
        HttpRequest.newBuilder(URI.create(url(path)))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json)),
        bearer);
  }

  /** A multipart upload: a {@code purpose} field (unless null) and a {@code file} part. */
  Response upload(String path, String filename, byte[] content, String purpose, String bearer) {
    String boundary = "----whet-test-boundary";
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (purpose != null) {
      body.writeBytes(
          ("--"
                  + boundary
                  + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
                  + purpose
                  + "\r\n")
              .getBytes(StandardCharsets.UTF_8));
    }
    body.writeBytes(
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                + filename
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8));
    body.writeBytes(content);
    body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return send(
        HttpRequest.newBuilder(URI.create(url(path)))
            .header("Content-Type", "multipart/form-data; boundary=" + boundary)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())),
        bearer);
  }

  Response uploadText(String filename, String content) {
    return upload(
        "/v1/files", filename, content.getBytes(StandardCharsets.UTF_8), "fine-tune", key);
  }

  @Override
  public void close() {
    server.close();
    System.clearProperty("whet.home");
  }
}
