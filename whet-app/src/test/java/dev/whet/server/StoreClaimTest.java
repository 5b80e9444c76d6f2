package dev.whet.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    store.insertJob(Store.Job.created(id, project, "queued", "{}", "tiny", "/runs/" + id));
  }

  /**
   * Issue 16, item 12: a worker paused past its lease (another took the job over) can write nothing
   * more of that job: no event, no estimate, no outcome, no renewal; its training stops.
   */
  @Test
  void aWorkerThatLostItsLeaseWritesNothing() throws Exception {
    try (Store store = new Store(Db.open(null, dir))) {
      queue(store, "j1", "alpha");
      assertEquals("j1", store.claim("A", 0).id()); // a lease that runs out at once
      Thread.sleep(1100); // leases count whole seconds
      Store.Job taken = store.claim("B", 60);
      assertEquals("j1", taken.id());
      assertEquals("running", taken.status(), "B resumes an interrupted job");

      assertFalse(store.renewLease("j1", "A", 60));
      assertFalse(store.addJobEvent("j1", "A", "info", "metrics", "Step 9", "{\"step\": 9}"));
      assertFalse(store.setEstimatedFinish("j1", "A", Store.now() + 60));
      assertFalse(store.finish("j1", "A", "failed", null, null, "{}", null));
      JobEvents paused = new JobEvents(store, "j1", "A", () -> false, m -> m);
      assertThrows(
          JobEvents.LeaseLost.class,
          () -> paused.onEvent("checkpoint", "saved checkpoint-10"),
          "the paused worker's training stops at its next report");
      assertEquals(new Store.Lease("running", "B"), store.lease("j1"));
      assertEquals(
          0,
          store.events("j1", 0, 100, true).data().size(),
          "nothing of A's reached the job's events");

      assertTrue(store.renewLease("j1", "B", 60));
      assertTrue(store.addJobEvent("j1", "B", "info", "message", "resumed", null));
      assertTrue(store.finish("j1", "B", "succeeded", null, 10L, null, null));
      assertEquals("succeeded", store.job("j1").status());
    }
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
        store.finish(j.id(), "worker", "succeeded", null, null, null, null);
        Thread.sleep(2); // claims a millisecond apart, as real ones are
      }
      assertEquals(List.of("a1", "b1", "c1", "a2", "b2", "a3"), order);
      assertNull(store.claim("worker", 60));
    }
  }
}
