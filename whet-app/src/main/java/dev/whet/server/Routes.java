package dev.whet.server;

import io.javalin.Javalin;

/**
 * A group of endpoints: the files, jobs and models resources here, inference and the dashboard on
 * their own branches. {@link WhetServer} registers each after its auth filter and error mappers, so
 * every route is authenticated (unless the filter lists it as open) and answers errors in OpenAI's
 * shape.
 */
public interface Routes {
  void register(Javalin app);
}
