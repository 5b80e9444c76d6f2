package dev.whet.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.whet.WhetException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's chat template ({@code chat_template} in {@code tokenizer_config.json}), rendered with
 * Jinjava, a Jinja engine for Java, under the settings transformers uses ({@code trim_blocks},
 * {@code lstrip_blocks}, {@code raise_exception}). Templates are programs: they are run, never
 * parsed by hand.
 */
public final class ChatTemplate {
  private static final ObjectMapper JSON = Json.MAPPER;

  private final String template;
  private final String bosToken;
  private final String eosToken;
  private final String source;
  private final Jinjava jinjava;

  /** One chat turn: role {@code system}, {@code user} or {@code assistant}, and its text. */
  public record Message(String role, String content) {}

  /**
   * @param bosToken and {@code eosToken}: the special tokens templates may refer to ({@code
   *     bos_token}, {@code eos_token}); may be empty
   * @param source where the template comes from, for errors
   */
  public ChatTemplate(String template, String bosToken, String eosToken, String source) {
    this.template = template;
    this.bosToken = bosToken == null ? "" : bosToken;
    this.eosToken = eosToken == null ? "" : eosToken;
    this.source = source;
    JinjavaConfig config =
        JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build();
    jinjava = new Jinjava(config);
    jinjava
        .getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
  }

  /**
   * The chat template of a model directory ({@code tokenizer_config.json}), or null when it has
   * none. A list of named templates (transformers' format for several) yields the "default" one.
   */
  public static ChatTemplate load(Path modelDir) {
    Path file = modelDir.resolve("tokenizer_config.json");
    if (!Files.isRegularFile(file)) {
      return null;
    }
    JsonNode c;
    try {
      c = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new WhetException(file + ": not valid JSON (" + e.getMessage() + ")", e);
    }
    JsonNode t = c.path("chat_template");
    String template = null;
    if (t.isTextual()) {
      template = t.asText();
    } else if (t.isArray()) {
      for (JsonNode named : t) {
        if (named.path("name").asText().equals("default")) {
          template = named.path("template").asText();
        }
      }
    }
    if (template == null) {
      return null;
    }
    return new ChatTemplate(
        template, tokenText(c.path("bos_token")), tokenText(c.path("eos_token")), file.toString());
  }

  /** Special tokens in tokenizer_config.json are strings or {"content": ...} objects. */
  static String tokenText(JsonNode n) {
    if (n.isTextual()) {
      return n.asText();
    }
    return n.path("content").asText("");
  }

  public String eosToken() {
    return eosToken;
  }

  public String bosToken() {
    return bosToken;
  }

  /**
   * Renders a conversation.
   *
   * @param addGenerationPrompt end with the header of an assistant turn, so the model writes the
   *     reply
   */
  public String render(List<Message> messages, boolean addGenerationPrompt) {
    List<Map<String, Object>> msgs = new ArrayList<>();
    for (Message m : messages) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("role", m.role());
      map.put("content", m.content());
      msgs.add(map);
    }
    Map<String, Object> context = new HashMap<>();
    context.put("messages", msgs);
    context.put("add_generation_prompt", addGenerationPrompt);
    context.put("bos_token", bosToken);
    context.put("eos_token", eosToken);
    RAISED.remove();
    RenderResult r = jinjava.renderForResult(template, context);
    String raised = RAISED.get();
    RAISED.remove();
    if (raised != null) {
      throw new WhetException(source + ": the chat template refused the conversation: " + raised);
    }
    for (TemplateError e : r.getErrors()) {
      if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new WhetException(
            source + ": chat template failed at line " + e.getLineno() + ": " + e.getMessage());
      }
    }
    return r.getOutput();
  }

  // Jinjava wraps exceptions thrown by functions into a generic error; keep the message aside.
  private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

  /** {@code raise_exception(message)} as transformers defines it for templates. */
  public static String raiseException(String message) {
    RAISED.set(message);
    throw new WhetException("chat template: " + message);
  }
}
