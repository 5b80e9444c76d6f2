package dev.whet.server;

import io.javalin.http.Context;

/**
 * Who is calling: the project the request's API key belongs to. The server's auth filter resolves
 * the bearer key and stores the caller on the request; every handler scopes what it reads and
 * writes to {@link #project()}, so one project never sees another's files, jobs or models.
 */
public record Caller(String project, String keyId) {
  static final String ATTRIBUTE = "whet.caller";

  /** The authenticated caller of this request (set by the auth filter before any handler runs). */
  public static Caller of(Context ctx) {
    Caller caller = ctx.attribute(ATTRIBUTE);
    if (caller == null) {
      throw ApiError.unauthorized("Missing API key: send 'Authorization: Bearer <key>'.");
    }
    return caller;
  }

  void attachTo(Context ctx) {
    ctx.attribute(ATTRIBUTE, this);
  }
}
