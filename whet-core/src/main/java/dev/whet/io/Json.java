package dev.whet.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * The one JSON mapper Whet reads and writes with: configured once, then shared (Jackson's mappers
 * are thread-safe once configured, and costly to create). Mappers with a different contract stay
 * where they are needed: strict duplicate keys for safetensors headers, NaN as null and snake case
 * for eval.json, indented output for files people read.
 */
public final class Json {
  /** Records without properties serialise as {@code {}} rather than failing. */
  public static final ObjectMapper MAPPER =
      new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  private Json() {}

  /** One line of JSON (the CLI's {@code --json} modes, JSON Lines files). */
  public static String line(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
