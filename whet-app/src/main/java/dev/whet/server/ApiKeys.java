package dev.whet.server;

import java.nio.file.Path;
import java.util.List;

/**
 * API keys, for {@code whet keys}: each belongs to a project, and everything a request creates or
 * sees is scoped by it. The secret is shown once at creation; the database keeps its SHA-256.
 */
public final class ApiKeys implements AutoCloseable {
  /** A key as listed: never the secret. */
  public record Info(String id, String name, String project, long createdAt, Long revokedAt) {}

  /** A new key: its id (for listing and revoking) and the secret to send as Bearer token. */
  public record Created(String id, String key) {}

  private final Store store;

  private ApiKeys(Store store) {
    this.store = store;
  }

  /** The keys of the service database ({@code dbUrl} as for {@code whet serve --db}). */
  public static ApiKeys open(Path home, String dbUrl) {
    return new ApiKeys(new Store(Db.open(dbUrl, home)));
  }

  public Created create(String name, String project) {
    String[] id = new String[1];
    String key = store.createKey(name, project, id);
    return new Created(id[0], key);
  }

  public List<Info> list() {
    return store.keys().stream()
        .map(k -> new Info(k.id(), k.name(), k.project(), k.createdAt(), k.revokedAt()))
        .toList();
  }

  /** False when there is no live key with this id. */
  public boolean revoke(String id) {
    return store.revokeKey(id);
  }

  @Override
  public void close() {
    store.close();
  }
}
