package dev.whet.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.whet.io.Json;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Response shapes the resource routes share; requests are read by {@link Requests}. */
final class Http {
  static final ObjectMapper JSON = Json.MAPPER;

  private Http() {}

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
