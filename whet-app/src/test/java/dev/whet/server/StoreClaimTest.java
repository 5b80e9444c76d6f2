package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, item 8: one worker serves every project's queue in turn, so a project that queued many
 * jobs first cannot hold another project's job back until all of its own are done.
 */
class StoreClaimTest {
  @TempDir Path dir;

  private static void queue(Store store, String id, String project) {
    store.insertJob(
        new Store.Job(
            id,
            project,
            "queued",
            "{}",
            "tiny",
            null,
            Store.now(),
            null,
            null,
            null,
            null,
            null,
            "/runs/" + id,
            false));
  }

  @Test
  void claimsGoRoundTheProjects() throws Exception {
    try (Store store = new Store(Db.open(null, dir))) {
      queue(store, "a1", "alpha");
      queue(store, "a2", "alpha");
      queue(store, "a3", "alpha");
      queue(store, "b1", "beta");
      queue(store, "b2", "beta");
      queue(store, "c1", "gamma");
      List<String> order = new ArrayList<>();
      for (Store.Job j; (j = store.claim("worker", 60)) != null; ) {
        order.add(j.id());
        store.finish(j.id(), "succeeded", null, null, null, null);
        Thread.sleep(2); // claims a millisecond apart, as real ones are
      }
      assertEquals(List.of("a1", "b1", "c1", "a2", "b2", "a3"), order);
      assertNull(store.claim("worker", 60));
    }
  }
}
