package dev.whet.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.io.Json;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading OpenAI-style JSON request bodies at the edge: each accessor checks the field's type and
 * range and answers a wrong one with a 400 that names the field, so handlers trust what they get.
 */
final class Requests {
  static final ObjectMapper JSON = Json.MAPPER;

  private Requests() {}

  /** The body as a JSON object; 400 for anything else. */
  static ObjectNode object(Context ctx) {
    JsonNode body;
    try {
      body = JSON.readTree(ctx.body());
    } catch (JsonProcessingException e) {
      // Limit violations (nesting deeper than Jackson's 1,000 levels, huge numbers) carry no
      // location: say what was wrong without one.
      var at = e.getLocation();
      throw ApiError.invalid(
          "The request body is not valid JSON: "
              + e.getOriginalMessage()
              + (at == null
                  ? ""
                  : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"),
          null);
    }
    if (!(body instanceof ObjectNode object)) {
      throw ApiError.invalid("The request body must be a JSON object.", null);
    }
    return object;
  }

  /** A string field, or null when absent or null; 400 when it has another type. */
  static String optionalString(JsonNode parent, String field, String param) {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isTextual()) {
      throw ApiError.invalid(
          "Invalid type for '" + param + "': expected a string, got " + type(n) + ".", param);
    }
    return n.asText();
  }

  /** A string field that must be present and not blank; 400 naming {@code param}. */
  static String requiredString(JsonNode parent, String field, String param) {
    String s = optionalString(parent, field, param);
    if (s == null || s.isBlank()) {
      throw ApiError.invalid("Missing required parameter: '" + param + "'.", param);
    }
    return s;
  }

  /** An object field, or null; 400 when it has another type. */
  static ObjectNode optionalObject(JsonNode parent, String field, String param) {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!(n instanceof ObjectNode o)) {
      throw ApiError.invalid(
          "Invalid type for '" + param + "': expected an object, got " + type(n) + ".", param);
    }
    return o;
  }

  /** True when the field is absent or null (OpenAI clients send null for unset options). */
  static boolean absent(JsonNode body, String field) {
    return !body.has(field) || body.get(field).isNull();
  }

  static String string(JsonNode body, String field, String fallback) {
    if (absent(body, field)) {
      if (fallback == null) {
        throw ApiError.invalid("Missing required parameter: '" + field + "'.", field);
      }
      return fallback;
    }
    JsonNode n = body.get(field);
    if (!n.isTextual()) {
      throw ApiError.invalid(
          "Invalid type for '" + field + "': expected a string, got " + type(n) + ".", field);
    }
    return n.asText();
  }

  static double number(JsonNode body, String field, double fallback, double min, double max) {
    if (absent(body, field)) {
      return fallback;
    }
    JsonNode n = body.get(field);
    if (!n.isNumber()) {
      throw ApiError.invalid(
          "Invalid type for '" + field + "': expected a number, got " + type(n) + ".", field);
    }
    double v = n.asDouble();
    if (!(v >= min && v <= max)) {
      throw ApiError.invalid(
          "Invalid '" + field + "': " + v + " is not between " + min + " and " + max + ".", field);
    }
    return v;
  }

  static long integer(JsonNode body, String field, long fallback, long min, long max) {
    if (absent(body, field)) {
      return fallback;
    }
    JsonNode n = body.get(field);
    if (!n.isIntegralNumber() || !n.canConvertToLong()) {
      throw ApiError.invalid(
          "Invalid type for '" + field + "': expected an integer, got " + type(n) + ".", field);
    }
    long v = n.asLong();
    if (v < min || v > max) {
      throw ApiError.invalid(
          "Invalid '" + field + "': " + v + " is not between " + min + " and " + max + ".", field);
    }
    return v;
  }

  static boolean bool(JsonNode body, String field, boolean fallback) {
    if (absent(body, field)) {
      return fallback;
    }
    JsonNode n = body.get(field);
    if (!n.isBoolean()) {
      throw ApiError.invalid(
          "Invalid type for '" + field + "': expected a boolean, got " + type(n) + ".", field);
    }
    return n.asBoolean();
  }

  /**
   * OpenAI's {@code input}/{@code prompt}: a string or an array of strings; none empty, at most
   * {@code max}.
   */
  static List<String> texts(JsonNode body, String field, int max) {
    if (absent(body, field)) {
      throw ApiError.invalid("Missing required parameter: '" + field + "'.", field);
    }
    JsonNode n = body.get(field);
    List<String> out = new ArrayList<>();
    if (n.isTextual()) {
      out.add(n.asText());
    } else if (n.isArray()) {
      for (int i = 0; i < n.size(); i++) {
        JsonNode t = n.get(i);
        if (!t.isTextual()) {
          throw ApiError.invalid(
              "Invalid '"
                  + field
                  + "["
                  + i
                  + "]': expected a string, got "
                  + type(t)
                  + " (token arrays are not supported; send text).",
              field);
        }
        out.add(t.asText());
      }
    } else {
      throw ApiError.invalid(
          "Invalid type for '"
              + field
              + "': expected a string or an array of strings, got "
              + type(n)
              + ".",
          field);
    }
    if (out.isEmpty()) {
      throw ApiError.invalid("'" + field + "' is empty: give at least one text.", field);
    }
    if (out.size() > max) {
      throw ApiError.invalid(
          "'"
              + field
              + "' has "
              + out.size()
              + " items; at most "
              + max
              + " are allowed per request.",
          field);
    }
    for (int i = 0; i < out.size(); i++) {
      if (out.get(i).isEmpty()) {
        throw ApiError.invalid(
            "'"
                + field
                + (n.isArray() ? "[" + i + "]" : "")
                + "' is an empty string; every input needs some text.",
            field);
      }
    }
    return out;
  }

  /** {@code stop}: absent, a string, or an array of up to 4 non-empty strings. */
  static List<String> stops(JsonNode body) {
    if (absent(body, "stop")) {
      return List.of();
    }
    JsonNode n = body.get("stop");
    List<String> out = new ArrayList<>();
    if (n.isTextual()) {
      out.add(n.asText());
    } else if (n.isArray()) {
      for (JsonNode s : n) {
        if (!s.isTextual()) {
          throw ApiError.invalid("Invalid 'stop': every item must be a string.", "stop");
        }
        out.add(s.asText());
      }
    } else {
      throw ApiError.invalid(
          "Invalid type for 'stop': expected a string or an array of strings, got " + type(n) + ".",
          "stop");
    }
    if (out.size() > 4) {
      throw ApiError.invalid("'stop' has " + out.size() + " items; at most 4 are allowed.", "stop");
    }
    if (out.stream().anyMatch(String::isEmpty)) {
      throw ApiError.invalid("'stop' sequences must not be empty strings.", "stop");
    }
    return out;
  }

  static String type(JsonNode n) {
    return switch (n.getNodeType()) {
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      case NULL -> "null";
      default -> n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    };
  }
}
