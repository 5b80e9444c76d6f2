package dev.whet.server;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request the service refuses, answered with OpenAI's error object: {@code
 * {"error":{"message","type","param","code"}}} and the HTTP status. Handlers throw it; the server's
 * exception mapper writes it. Never carries a stack trace to the client.
 */
public final class ApiError extends RuntimeException {
  private final int status;
  private final String type;
  private final String param;
  private final String code;

  public ApiError(int status, String type, String message, String param, String code) {
    super(message);
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
  }

  /** 400: the request is malformed or a field has a wrong value; {@code param} names the field. */
  public static ApiError invalid(String message, String param) {
    return new ApiError(400, "invalid_request_error", message, param, null);
  }

  /**
   * 400 with a machine-readable code, e.g. {@code invalid_file} for a file that fails validation.
   */
  public static ApiError invalid(String message, String param, String code) {
    return new ApiError(400, "invalid_request_error", message, param, code);
  }

  /**
   * 404: the thing does not exist <em>for this caller</em>. Another project's file, job or model is
   * answered exactly like a missing one, so ids cannot be probed.
   */
  public static ApiError notFound(String what, String id) {
    return new ApiError(
        404, "invalid_request_error", "No such " + what + ": '" + id + "'", "id", "not_found");
  }

  public static ApiError unauthorized(String message) {
    return new ApiError(401, "invalid_request_error", message, null, "invalid_api_key");
  }

  public static ApiError tooLarge(String message) {
    return new ApiError(413, "invalid_request_error", message, null, "file_too_large");
  }

  public static ApiError conflict(String message, String code) {
    return new ApiError(409, "invalid_request_error", message, null, code);
  }

  public int status() {
    return status;
  }

  /** The body OpenAI clients parse: {@code {"error": {...}}}. */
  public Map<String, Object> body() {
    return body(getMessage(), type, param, code);
  }

  /** The error body for failures that are not an ApiError (e.g. an internal error, no details). */
  public static Map<String, Object> body(String message, String type, String param, String code) {
    Map<String, Object> error = new LinkedHashMap<>();
    error.put("message", message);
    error.put("type", type);
    error.put("param", param);
    error.put("code", code);
    return Map.of("error", error);
  }
}
