package dev.whet;

import java.nio.file.Path;

/**
 * Where Whet keeps models, runs, files and the service database: {@code WHET_HOME}, default {@code
 * ~/.whet}.
 */
public final class WhetHome {
  private WhetHome() {}

  public static Path root() {
    String env = System.getenv("WHET_HOME");
    String prop = System.getProperty("whet.home");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop);
    }
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(System.getProperty("user.home"), ".whet");
  }

  public static Path models() {
    return root().resolve("models");
  }

  public static Path runs() {
    return root().resolve("runs");
  }

  public static Path files() {
    return root().resolve("files");
  }
}
