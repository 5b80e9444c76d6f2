package dev.whet.eval;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/**
 * Debian's headless Chromium driven through its command line: console messages come from {@code
 * --enable-logging=stderr} (lines tagged {@code CONSOLE}), the rendered DOM from {@code
 * --dump-dom}, pixels from {@code --screenshot}. Each call uses a fresh profile directory and
 * nothing that reaches the network.
 */
final class Chromium {
  static final Path BINARY = Path.of("/usr/bin/chromium");

  private Chromium() {}

  /** What one page load produced. */
  record Load(List<String> consoleMessages, String stdout, int exitCode) {}

  static boolean available() {
    return Files.isExecutable(BINARY);
  }

  /** Loads {@code page} and writes a screenshot of a {@code width x height} window. */
  static Load screenshot(Path page, Path png, int width, int height) throws Exception {
    return run(page, "--screenshot=" + png, "--window-size=" + width + "," + height);
  }

  /** Loads {@code page} and returns the DOM after scripts ran (in {@link Load#stdout()}). */
  static Load dumpDom(Path page) throws Exception {
    return run(page, "--dump-dom", "--window-size=1280,2000");
  }

  private static Load run(Path page, String... extra) throws Exception {
    Path profile = Files.createTempDirectory("whet-chromium-");
    try {
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  BINARY.toString(),
                  "--headless",
                  "--no-sandbox",
                  "--disable-gpu",
                  "--disable-quic",
                  "--no-first-run",
                  "--disable-background-networking",
                  "--disable-component-update",
                  "--disable-sync",
                  "--user-data-dir=" + profile,
                  "--enable-logging=stderr",
                  "--v=0",
                  "--hide-scrollbars"));
      cmd.addAll(List.of(extra));
      cmd.add(page.toUri().toString());
      Path out = profile.resolve("stdout.txt");
      Path err = profile.resolve("stderr.txt");
      Process p =
          new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(90, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("chromium did not finish within 90 s: " + cmd);
      }
      List<String> console = new ArrayList<>();
      for (String line : Files.readAllLines(err, StandardCharsets.UTF_8)) {
        if (line.contains(":CONSOLE")) console.add(line);
      }
      return new Load(console, Files.readString(out, StandardCharsets.UTF_8), p.exitValue());
    } finally {
      dev.whet.io.DiskFiles.delete(profile);
    }
  }

  /** Number of distinct colours in an image, counting up to {@code limit}. */
  static int distinctColours(Path png, int limit) throws IOException {
    BufferedImage img = ImageIO.read(png.toFile());
    java.util.Set<Integer> colours = new java.util.HashSet<>();
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        colours.add(img.getRGB(x, y));
        if (colours.size() >= limit) return limit;
      }
    }
    return colours.size();
  }
}
