package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's files as the server hands them out, without a browser: open to anyone (the page
 * asks for the key), while the API behind it stays closed; and the rules the page's safety rests
 * on, checked in its source (no inline script, no HTML parsing of data, a strict CSP).
 */
class DashboardAssetsTest {
  @TempDir static Path dir;
  static TestServer s;

  @BeforeAll
  static void start() {
    s = TestServer.start(dir.resolve("home"), b -> b.worker(false));
  }

  @AfterAll
  static void stop() {
    s.close();
  }

  private static TestServer.Response get(String path) {
    return s.send(HttpRequest.newBuilder(URI.create(s.url(path))).GET(), null);
  }

  private static String contentType(String path) {
    try {
      return s.http
          .send(
              HttpRequest.newBuilder(URI.create(s.url(path))).GET().build(),
              java.net.http.HttpResponse.BodyHandlers.discarding())
          .headers()
          .firstValue("Content-Type")
          .orElse("");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void thePageAndItsAssetsAreOpenAndTheApiIsNot() {
    TestServer.Response page = get("/");
    assertEquals(200, page.status());
    assertTrue(page.body().contains("<title>Whet</title>"), page.body());
    assertEquals(page.body(), get("/index.html").body());
    assertTrue(contentType("/").startsWith("text/html"), contentType("/"));
    assertEquals(200, get("/assets/app.js").status());
    assertTrue(contentType("/assets/app.js").contains("javascript"));
    assertEquals(200, get("/assets/app.css").status());
    assertTrue(contentType("/assets/app.css").startsWith("text/css"));
    assertEquals(401, get("/v1/models").status(), "the API still needs a key");
    assertEquals(401, get("/v1/fine_tuning/jobs").status());
    TestServer.Response missing = get("/assets/nothing.js");
    assertEquals(404, missing.status());
  }

  private static java.net.http.HttpHeaders headers(String path, String bearer) {
    try {
      HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(s.url(path))).GET();
      if (bearer != null) {
        r.header("Authorization", "Bearer " + bearer);
      }
      return s.http.send(r.build(), java.net.http.HttpResponse.BodyHandlers.discarding()).headers();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Issue 16, item 11: the policy as a header (framing refused), no MIME sniffing anywhere. */
  @Test
  void thePageCannotBeFramedAndNothingIsSniffed() {
    for (String path : List.of("/", "/index.html", "/assets/app.js")) {
      java.net.http.HttpHeaders h = headers(path, null);
      String csp = h.firstValue("Content-Security-Policy").orElse("");
      assertTrue(csp.contains("frame-ancestors 'none'"), path + ": " + csp);
      assertEquals("nosniff", h.firstValue("X-Content-Type-Options").orElse(""), path);
    }
    // The header carries every directive of the page's <meta> policy.
    String page = get("/").body();
    java.util.regex.Matcher meta =
        java.util.regex.Pattern.compile("Content-Security-Policy\"\\s+content=\"([^\"]+)\"")
            .matcher(page);
    assertTrue(meta.find(), "the page keeps its <meta> policy");
    String header = headers("/", null).firstValue("Content-Security-Policy").orElse("");
    for (String directive : meta.group(1).split(";\\s*")) {
      assertTrue(header.contains(directive.strip()), "header lacks " + directive + ": " + header);
    }
    for (String path : List.of("/v1/models", "/v1/no/such")) {
      assertEquals(
          "nosniff", headers(path, s.key).firstValue("X-Content-Type-Options").orElse(""), path);
    }
  }

  @Test
  void nothingBesideTheDashboardIsServedFromTheClasspath() {
    // Other classpath resources (classes, bundled data) stay out of reach, with or without a key.
    for (String path :
        List.of(
            "/assets/",
            "/assets/%2e%2e/index.html",
            "/assets/%2e%2e/%2e%2e/demo/banking77/NOTICE.md",
            "/assets/..%2f..%2fdemo/banking77/NOTICE.md",
            "/%2e%2e/dev/whet/server/WhetServer.class",
            "/demo/banking77/NOTICE.md",
            "/dashboard/index.html")) {
      for (String key : java.util.Arrays.asList(null, s.key)) {
        TestServer.Response r = s.get(path, key);
        assertTrue(r.status() >= 400, path + " answered " + r.status() + ": " + r.body());
      }
    }
  }

  @Test
  void theSourceKeepsToItsSafetyRules() {
    String html = get("/").body();
    // Every script comes from a file of the server; none is inline.
    assertFalse(Pattern.compile("<script(?![^>]*\\ssrc=)").matcher(html).find(), html);
    assertFalse(
        Pattern.compile("<[^>]*\\son[a-z]+\\s*=").matcher(html).find(),
        "no inline event handlers: " + html);
    assertTrue(html.contains("script-src 'self'"), "a CSP limits scripts to the server");
    assertTrue(html.contains("connect-src 'self'"), "a CSP keeps fetches on the server");
    String js = get("/assets/app.js").body();
    for (String sink :
        List.of(
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "Function(")) {
      assertFalse(js.contains(sink), "app.js uses " + sink);
    }
    // The report frame has an empty sandbox: no scripts, no access to the page or its key.
    assertTrue(js.contains("sandbox: \"\""), "report iframe sandbox");
    // The SVG namespace is a name, never fetched; any other address would be a dependency.
    String jsWithoutSvgNs = js.replace("\"http://www.w3.org/2000/svg\"", "");
    assertFalse(jsWithoutSvgNs.matches("(?s).*https?://.*"), "app.js names no other site");
    assertFalse(html.matches("(?s).*https?://.*"), "index.html names no other site");
  }
}
