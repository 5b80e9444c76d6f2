package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens rendered reports in a real headless Chromium (Debian's {@code chromium}, installed by
 * scripts/ci-deps.sh). Skipped only when /usr/bin/chromium is missing.
 */
@Tag("browser")
class ReportBrowserTest {
  @TempDir Path dir;

  @BeforeAll
  static void needsChromium() {
    assumeTrue(
        Chromium.available(),
        "skipping browser tests: /usr/bin/chromium is missing (scripts/ci-deps.sh installs it)");
  }

  @Test
  void reportRendersWithoutConsoleMessagesAndIsNotBlank() throws Exception {
    ReportWriter.write(dir, SampleReport.build(false));
    Path report = dir.resolve("report.html");
    Path png = dir.resolve("report.png");
    Chromium.Load load = Chromium.screenshot(report, png, 1280, 2400);
    assertEquals(0, load.exitCode());
    // The report has no scripts; any console message (an error, a CSP violation) is a bug.
    assertTrue(load.consoleMessages().isEmpty(), "console: " + load.consoleMessages());
    assertTrue(Files.size(png) > 0);
    assertTrue(Chromium.distinctColours(png, 50) >= 50, "screenshot is (nearly) blank");
  }

  @Test
  void everyChartIsRenderedWithContentAndSize() throws Exception {
    ReportWriter.write(dir, SampleReport.build(false));
    // A copy of the report with a probe script that measures each chart once laid out; the
    // report's Content-Security-Policy (no scripts) is removed from the copy so the probe runs.
    String html = Files.readString(dir.resolve("report.html"));
    String probe =
        "<script>const p=document.createElement('pre');p.id='probe';p.textContent="
            + "[...document.querySelectorAll('svg[data-chart]')].map(s=>{const r=s"
            + ".getBoundingClientRect();return s.dataset.chart+'='+s.querySelectorAll("
            + "'rect,line,polyline,circle,path').length+'x'+Math.round(r.width)+'x'+"
            + "Math.round(r.height)}).join(';');document.body.append(p)</script>";
    String probed =
        html.replaceFirst("<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "")
            .replace("</body>", probe + "</body>");
    Path page = dir.resolve("probe.html");
    Files.writeString(page, probed);
    Chromium.Load load = Chromium.dumpDom(page);
    assertTrue(load.consoleMessages().isEmpty(), "console: " + load.consoleMessages());
    Matcher m = Pattern.compile("<pre id=\"probe\">([^<]*)</pre>").matcher(load.stdout());
    assertTrue(m.find(), "probe output missing from the DOM");
    String measured = m.group(1);
    for (String chart : ReportWriterTest.CHARTS) {
      Matcher c = Pattern.compile(chart + "=(\\d+)x(\\d+)x(\\d+)").matcher(measured);
      assertTrue(c.find(), "chart " + chart + " missing: " + measured);
      assertTrue(Integer.parseInt(c.group(1)) >= 3, chart + " has no drawn shapes: " + measured);
      assertTrue(Integer.parseInt(c.group(2)) > 100, chart + " has no width: " + measured);
      assertTrue(Integer.parseInt(c.group(3)) > 50, chart + " has no height: " + measured);
    }
  }

  @Test
  void hostileDataStaysText() throws Exception {
    ReportWriter.write(dir, SampleReport.build(true));
    Chromium.Load load = Chromium.dumpDom(dir.resolve("report.html"));
    assertTrue(load.consoleMessages().isEmpty(), "console: " + load.consoleMessages());
    assertFalse(load.stdout().contains("<img"), "an injected img element was created");
    assertFalse(load.stdout().contains("<script"), "an injected script element was created");
    assertTrue(load.stdout().contains("&lt;script&gt;alert"), "the text itself is shown");
  }

  @Test
  void theHarnessReallySeesConsoleErrorsAndBlankPages() throws Exception {
    Path bad = dir.resolve("throws.html");
    Files.writeString(
        bad,
        "<!DOCTYPE html><html><body><p>x</p><script>throw new Error('whet-probe-error')"
            + "</script></body></html>");
    Chromium.Load load = Chromium.dumpDom(bad);
    assertTrue(
        load.consoleMessages().stream().anyMatch(l -> l.contains("whet-probe-error")),
        "an uncaught error was not reported: " + load.consoleMessages());

    Path blank = dir.resolve("blank.html");
    Files.writeString(blank, "<!DOCTYPE html><html><body></body></html>");
    Path png = dir.resolve("blank.png");
    Chromium.screenshot(blank, png, 400, 300);
    assertEquals(1, Chromium.distinctColours(png, 50), "a blank page must read as blank");
  }
}
