package dev.whet.server;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/**
 * Errors Jetty answers itself, before a request reaches Whet's routes (a header too large, an
 * ambiguous path such as {@code %2F..}, a malformed Content-Length), in OpenAI's error shape
 * instead of Jetty's HTML page: every error a client can see parses as {@code {"error": {...}}}.
 */
final class JsonErrorHandler extends ErrorHandler {
  /** Refused by the HTTP parser, with no request object yet: the body is returned as bytes. */
  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    fields.put(new HttpField(HttpHeader.CONTENT_TYPE, "application/json"));
    return ByteBuffer.wrap(json(status, reason).getBytes(StandardCharsets.UTF_8));
  }

  /** Refused after parsing (an ambiguous URI, an error dispatch): written to the response. */
  @Override
  protected void generateAcceptableResponse(
      Request baseRequest,
      HttpServletRequest request,
      HttpServletResponse response,
      int code,
      String message)
      throws IOException {
    baseRequest.setHandled(true);
    response.setContentType("application/json");
    response.setCharacterEncoding("UTF-8");
    response.getWriter().write(json(code, message));
  }

  static String json(int status, String reason) {
    String why = reason == null || reason.isBlank() ? HttpStatus.getMessage(status) : reason;
    return Http.text(
        ApiError.body(
            "The server could not accept this request: " + why + " (HTTP " + status + ").",
            status >= 500 ? "server_error" : "invalid_request_error",
            null,
            codeFor(status)));
  }

  /** The error code of a status the HTTP layer answers, where OpenAI's shape wants one. */
  static String codeFor(int status) {
    return switch (status) {
      case 413 -> "request_too_large";
      case 431 -> "headers_too_large";
      default -> null;
    };
  }
}
