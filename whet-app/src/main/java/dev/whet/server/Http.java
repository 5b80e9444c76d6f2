package dev.whet.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.io.Json;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Request parsing and response shapes the resource routes share. */
final class Http {
  static final ObjectMapper JSON = Json.MAPPER;

  private Http() {}

  /** The request body as a JSON object; 400 for anything else (parsed by {@link Requests}). */
  static ObjectNode body(Context ctx) {
    return (ObjectNode) Requests.object(ctx);
  }

  /** A string field, or null when absent or null; 400 when it has another type. */
  static String string(JsonNode parent, String field, String param) {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isTextual()) {
      throw ApiError.invalid(
          "Invalid type for '" + param + "': expected a string, got " + Requests.type(n) + ".",
          param);
    }
    return n.asText();
  }

  static String requiredString(JsonNode parent, String field, String param) {
    String s = string(parent, field, param);
    if (s == null || s.isBlank()) {
      throw ApiError.invalid("Missing required parameter: '" + param + "'.", param);
    }
    return s;
  }

  /** An object field, or null; 400 when it has another type. */
  static ObjectNode object(JsonNode parent, String field, String param) {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!(n instanceof ObjectNode o)) {
      throw ApiError.invalid(
          "Invalid type for '" + param + "': expected an object, got " + Requests.type(n) + ".",
          param);
    }
    return o;
  }

  /** {@code ?limit=}: 1 to {@code max}, default {@code dflt}. */
  static int limit(Context ctx, int dflt, int max) {
    String s = ctx.queryParam("limit");
    if (s == null) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(s);
      if (n >= 1 && n <= max) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw ApiError.invalid("'limit' must be an integer from 1 to " + max + ".", "limit");
  }

  /** OpenAI's list envelope. */
  static Map<String, Object> list(List<?> data, boolean hasMore) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("object", "list");
    m.put("data", data);
    m.put("has_more", hasMore);
    return m;
  }

  /** JSON text stored in the database, back as a tree (null stays null). */
  static JsonNode tree(String json) {
    if (json == null) {
      return null;
    }
    try {
      return JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static String text(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
