package dev.whet.cli;

import dev.whet.WhetException;
import dev.whet.WhetHome;
import dev.whet.server.ApiKeys;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whet keys}: API keys for {@code whet serve}. */
@Command(
    name = "keys",
    description = "Manage the API keys of `whet serve` (each key belongs to a project).",
    mixinStandardHelpOptions = true,
    subcommands = {KeysCommand.Create.class, KeysCommand.List.class, KeysCommand.Revoke.class})
final class KeysCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Where the keys live: the server's database. */
  static class DbOption {
    @Option(
        names = "--db",
        paramLabel = "URL",
        description = "The server's database (default: SQLite in WHET_HOME).")
    String db;

    ApiKeys open() {
      return ApiKeys.open(WhetHome.root(), db);
    }
  }

  @Command(
      name = "create",
      description = "Create a key; prints it alone on the last line (shown only this once).",
      mixinStandardHelpOptions = true)
  static final class Create implements Callable<Integer> {
    @Option(names = "--name", required = true, paramLabel = "NAME", description = "What it is for.")
    String name;

    @Option(
        names = "--project",
        paramLabel = "P",
        description = "Project whose files, jobs and models it sees (default: default).")
    String project = "default";

    @picocli.CommandLine.Mixin DbOption db = new DbOption();

    @Override
    public Integer call() {
      try (ApiKeys keys = db.open()) {
        ApiKeys.Created k = keys.create(name, project);
        System.out.println(
            "created key " + k.id() + " (" + name + ", project " + project + "); keep it secret:");
        System.out.println(k.key());
      }
      return 0;
    }
  }

  @Command(name = "list", description = "List keys (never their secrets).")
  static final class List implements Callable<Integer> {
    @picocli.CommandLine.Mixin DbOption db = new DbOption();

    @Override
    public Integer call() {
      try (ApiKeys keys = db.open()) {
        System.out.printf(
            "%-18s %-20s %-16s %-22s %s%n", "ID", "NAME", "PROJECT", "CREATED", "STATUS");
        for (ApiKeys.Info k : keys.list()) {
          System.out.printf(
              "%-18s %-20s %-16s %-22s %s%n",
              k.id(),
              k.name(),
              k.project(),
              Instant.ofEpochSecond(k.createdAt()),
              k.revokedAt() == null ? "active" : "revoked " + Instant.ofEpochSecond(k.revokedAt()));
        }
      }
      return 0;
    }
  }

  @Command(name = "revoke", description = "Revoke a key: requests with it get 401 from now on.")
  static final class Revoke implements Callable<Integer> {
    @Parameters(paramLabel = "ID", description = "The key's id (see `whet keys list`).")
    String id;

    @picocli.CommandLine.Mixin DbOption db = new DbOption();

    @Override
    public Integer call() {
      try (ApiKeys keys = db.open()) {
        if (!keys.revoke(id)) {
          throw new WhetException("no active key with id '" + id + "' (see `whet keys list`)");
        }
        System.out.println("revoked " + id);
      }
      return 0;
    }
  }
}
