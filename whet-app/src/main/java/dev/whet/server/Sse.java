package dev.whet.server;

import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A server-sent-event stream as OpenAI's APIs send them: {@code data: <json>} events, a comment as
 * keep-alive, and {@code data: [DONE]} at the end. Each write is flushed; an {@link IOException}
 * means the client went away.
 */
final class Sse {
  private final OutputStream out;

  private Sse(OutputStream out) {
    this.out = out;
  }

  /** Answers 200 with the stream's headers (no caching, no proxy buffering) and opens it. */
  static Sse open(Context ctx) throws IOException {
    ctx.status(200);
    ctx.res().setContentType("text/event-stream;charset=utf-8");
    ctx.res().setHeader("Cache-Control", "no-cache");
    ctx.res().setHeader("X-Accel-Buffering", "no");
    return new Sse(ctx.res().getOutputStream());
  }

  /** One {@code data:} event. */
  void send(String data) throws IOException {
    write("data: " + data + "\n\n");
  }

  /** The end of the stream. */
  void done() throws IOException {
    send("[DONE]");
  }

  /** A comment line: keeps proxies from closing an idle stream, and fails once the client left. */
  void keepAlive() throws IOException {
    write(": keep-alive\n\n");
  }

  private void write(String s) throws IOException {
    out.write(s.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }
}
