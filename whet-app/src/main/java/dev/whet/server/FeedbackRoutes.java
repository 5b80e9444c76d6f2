package dev.whet.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /v1/whet/feedback}: a rating of, or a preferred alternative to, a chat completion
 * this server gave the caller's project; {@code GET /v1/whet/feedback/export?model=M}: the
 * project's feedback on model M as preference pairs (JSONL) for a DPO job. Feedback, like
 * everything else, is scoped by the API key's project: another project's completions are answered
 * as missing.
 */
final class FeedbackRoutes implements Routes {
  private final Store store;

  FeedbackRoutes(Store store) {
    this.store = store;
  }

  @Override
  public void register(Javalin app) {
    app.post("/v1/whet/feedback", this::create);
    app.get("/v1/whet/feedback/export", this::export);
  }

  private void create(Context ctx) {
    Caller caller = Caller.of(ctx);
    ObjectNode body = Requests.object(ctx);
    String completionId = Requests.requiredString(body, "completion_id", "completion_id");
    Integer rating = Feedback.rating(body.get("rating"));
    String preferred = Requests.optionalString(body, "preferred", "preferred");
    String comment = Requests.optionalString(body, "comment", "comment");
    if (rating == null && (preferred == null || preferred.isBlank())) {
      throw ApiError.invalid(
          "Give a 'rating' (\"good\" or \"bad\") or a 'preferred' answer, or both.", "rating");
    }
    if (comment != null && comment.length() > 4096) {
      throw ApiError.invalid("'comment' is at most 4,096 characters.", "comment");
    }
    Store.Completion c = store.completion(caller.project(), completionId);
    if (c == null) {
      throw ApiError.notFound("chat completion", completionId);
    }
    String id = Store.newId("fb-");
    long now = Store.now();
    store.insertFeedback(id, caller.project(), completionId, rating, preferred, comment, now);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("object", "whet.feedback");
    out.put("id", id);
    out.put("completion_id", completionId);
    out.put("model", c.model());
    out.put("rating", rating);
    out.put("preferred", preferred);
    out.put("comment", comment);
    out.put("created_at", now);
    ctx.json(out);
  }

  private void export(Context ctx) {
    Caller caller = Caller.of(ctx);
    String model = ctx.queryParam("model");
    if (model == null || model.isBlank()) {
      throw ApiError.invalid("Missing required query parameter: 'model'.", "model");
    }
    ctx.contentType("application/jsonl")
        .result(Feedback.jsonl(Feedback.pairs(store.feedback(caller.project(), model))));
  }
}
