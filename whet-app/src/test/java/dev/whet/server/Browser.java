package dev.whet.server;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Debian's headless Chromium driven through Debian's chromedriver with Selenium. Both paths are
 * given explicitly, so Selenium Manager (which would download a driver or a browser) never runs; a
 * log handler on Selenium Manager's logger records it if it ever does, and {@link
 * #seleniumManagerRuns()} lets tests assert that it did not. Nothing reaches the network: the
 * profile is fresh and background services are off.
 */
final class Browser implements AutoCloseable {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private static final Logger MANAGER_LOG =
      Logger.getLogger("org.openqa.selenium.manager.SeleniumManager");
  private static final List<String> managerRecords = new ArrayList<>();

  // Selenium warns that it has no CDP bindings for this Chromium; the test uses none.
  private static final Logger CDP_LOG = Logger.getLogger("org.openqa.selenium.devtools");

  static {
    CDP_LOG.setLevel(Level.OFF);
    MANAGER_LOG.setLevel(Level.ALL);
    MANAGER_LOG.addHandler(
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            synchronized (managerRecords) {
              managerRecords.add(String.valueOf(r.getMessage()));
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        });
  }

  final ChromeDriver driver;
  private final Path profile;

  static boolean available() {
    return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
  }

  /** A new browser with a {@code width x height} window and a fresh profile. */
  Browser(int width, int height) throws Exception {
    // The property is what Selenium's DriverFinder checks before it would ask Selenium Manager.
    System.setProperty(ChromeDriverService.CHROME_DRIVER_EXE_PROPERTY, CHROMEDRIVER.toString());
    profile = Files.createTempDirectory("whet-selenium-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--user-data-dir=" + profile,
        "--window-size=" + width + "," + height);
    options.setExperimentalOption(
        "prefs", Map.of("download.default_directory", profile.resolve("downloads").toString()));
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(CHROMEDRIVER.toString()))
            .usingAnyFreePort()
            .withLogOutput(java.io.OutputStream.nullOutputStream())
            .build();
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
  }

  /** Where the browser saves downloads. */
  Path downloads() {
    return profile.resolve("downloads");
  }

  /**
   * The browser console since the last call: every entry as {@code LEVEL message}. Page errors,
   * failed requests and CSP violations all land here.
   */
  List<String> console() {
    List<String> out = new ArrayList<>();
    for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
      out.add(e.getLevel() + " " + e.getMessage());
    }
    return out;
  }

  /** What Selenium Manager logged in this JVM; empty when it never ran. */
  static List<String> seleniumManagerRuns() {
    synchronized (managerRecords) {
      return List.copyOf(managerRecords);
    }
  }

  @Override
  public void close() throws Exception {
    try {
      driver.quit();
    } finally {
      try (var paths = Files.walk(profile)) {
        for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
