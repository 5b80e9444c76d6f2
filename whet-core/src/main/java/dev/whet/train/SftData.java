package dev.whet.train;

import dev.whet.WhetException;
import dev.whet.data.ChatExample;
import dev.whet.data.Example;
import dev.whet.data.GenerationExample;
import dev.whet.data.InstructionExample;
import dev.whet.data.PreferenceExample;
import dev.whet.io.ChatTemplate;
import dev.whet.io.ChatTemplate.Message;
import dev.whet.io.Tokenizer;
import java.util.List;

/**
 * Supervised fine-tuning records (prompt/completion, chat, alpaca-style instruction) and preference
 * pairs as training examples, and as prompts with their reference answers for generation checks.
 * Instruction records become a one-turn chat when the model has a chat template, else a plain
 * prompt with {@code ### Instruction:} / {@code ### Input:} / {@code ### Response:} headers.
 */
public final class SftData {
  private SftData() {}

  /** A prompt to generate from and the answer the record gives for it. */
  public record Prompt(long[] ids, String text, String reference) {}

  /** The record encoded for training (labels on the answer, EOS appended). */
  public static SftEncoding.Example encode(SftEncoding encoding, ChatTemplate template, Example e) {
    return switch (e) {
      case GenerationExample g -> encoding.promptCompletion(g.prompt(), g.completion());
      case InstructionExample i ->
          template != null
              ? encoding.chat(List.of(new Message("user", i.input()), assistant(i.output())))
              : encoding.promptCompletion(instructionPrompt(i), i.output());
      case ChatExample c -> encoding.chat(messages(c.messages()), learned(c.messages()));
      case PreferenceExample p -> answered(encoding, template, p, p.chosen()); // what to say
      default -> throw unsupported(e);
    };
  }

  /**
   * A preference pair as two training sequences: the prompt with the chosen answer and with the
   * rejected one, only the answer (and its end) scored. A model without a chat template takes a
   * one-turn prompt as plain text.
   */
  public static DpoTask.Pair pair(
      SftEncoding encoding, ChatTemplate template, PreferenceExample p) {
    return new DpoTask.Pair(
        answered(encoding, template, p, p.chosen()), answered(encoding, template, p, p.rejected()));
  }

  private static SftEncoding.Example answered(
      SftEncoding encoding, ChatTemplate template, PreferenceExample p, String answer) {
    if (template == null) {
      return encoding.promptCompletion(plainPrompt(p), answer);
    }
    List<Message> turns = new java.util.ArrayList<>(messages(p.prompt()));
    turns.add(assistant(answer));
    boolean[] learn = new boolean[turns.size()];
    learn[learn.length - 1] = true; // earlier assistant turns are context
    return encoding.chat(turns, learn);
  }

  /** A preference prompt for a model without a chat template: its one user turn, as text. */
  private static String plainPrompt(PreferenceExample p) {
    if (p.prompt().size() != 1) {
      throw new WhetException(
          "line " + p.line() + ": a prompt of several turns needs a model with a chat template");
    }
    return p.prompt().get(0).content();
  }

  /** The record's prompt (everything before its last answer) and that answer. */
  public static Prompt prompt(Tokenizer tokenizer, ChatTemplate template, Example e) {
    return switch (e) {
      case GenerationExample g ->
          new Prompt(tokenizer.encode(g.prompt()), g.prompt(), g.completion());
      case InstructionExample i -> {
        if (template != null) {
          String text = template.render(List.of(new Message("user", i.input())), true);
          yield new Prompt(tokenizer.encodeRaw(text), text, i.output());
        }
        String text = instructionPrompt(i);
        yield new Prompt(tokenizer.encode(text), text, i.output());
      }
      case PreferenceExample p -> {
        if (template == null) {
          String text = plainPrompt(p);
          yield new Prompt(tokenizer.encode(text), text, p.chosen());
        }
        String text = template.render(messages(p.prompt()), true);
        yield new Prompt(tokenizer.encodeRaw(text), text, p.chosen());
      }
      case ChatExample c -> {
        List<Message> all = messages(c.messages());
        int last = all.size() - 1;
        while (last >= 0 && !all.get(last).role().equals("assistant")) {
          last--;
        }
        if (last < 0 || template == null) {
          throw new WhetException(
              "line " + c.line() + ": a chat needs an assistant turn and a model chat template");
        }
        String text = template.render(all.subList(0, last), true);
        yield new Prompt(tokenizer.encodeRaw(text), text, all.get(last).content());
      }
      default -> throw unsupported(e);
    };
  }

  /**
   * A record as a question and its answer, for prompting a model with it (few-shot examples, the
   * generative baselines): the turns before its last answer, the same as plain text when it has one
   * ({@code null} for a conversation of several turns), and the answer.
   */
  public record Query(List<Message> turns, String plain, String answer) {
    /** The text retrieval compares: the plain prompt, else the last user turn. */
    public String searchText() {
      if (plain != null) {
        return plain;
      }
      for (int i = turns.size() - 1; i >= 0; i--) {
        if (turns.get(i).role().equals("user")) {
          return turns.get(i).content();
        }
      }
      return turns.isEmpty() ? "" : turns.get(turns.size() - 1).content();
    }
  }

  /** The record as a {@link Query}. */
  public static Query query(Example e) {
    return switch (e) {
      case GenerationExample g ->
          new Query(List.of(new Message("user", g.prompt())), g.prompt(), g.completion());
      case InstructionExample i ->
          new Query(List.of(new Message("user", i.input())), instructionPrompt(i), i.output());
      case PreferenceExample p ->
          new Query(
              messages(p.prompt()),
              p.prompt().size() == 1 ? p.prompt().get(0).content() : null,
              p.chosen());
      case ChatExample c -> {
        List<Message> all = messages(c.messages());
        int last = all.size() - 1;
        while (last >= 0 && !all.get(last).role().equals("assistant")) {
          last--;
        }
        if (last < 0) {
          throw new WhetException("line " + c.line() + ": a chat needs an assistant turn");
        }
        List<Message> before = all.subList(0, last);
        boolean oneTurn = before.size() == 1 && before.get(0).role().equals("user");
        yield new Query(before, oneTurn ? before.get(0).content() : null, all.get(last).content());
      }
      default -> throw unsupported(e);
    };
  }

  /** An instruction record as a plain prompt, for models without a chat template. */
  static String instructionPrompt(InstructionExample i) {
    StringBuilder b =
        new StringBuilder("### Instruction:\n").append(i.instruction()).append("\n\n");
    // The record's input() is instruction and context joined; texts() has the context alone.
    if (i.texts().size() == 3) {
      b.append("### Input:\n").append(i.texts().get(1)).append("\n\n");
    }
    return b.append("### Response:\n").toString();
  }

  private static Message assistant(String content) {
    return new Message("assistant", content);
  }

  private static List<Message> messages(List<ChatExample.Message> in) {
    return in.stream().map(m -> new Message(m.role(), m.content())).toList();
  }

  /** Which turns to learn from: assistant turns without {@code weight: 0}. */
  private static boolean[] learned(List<ChatExample.Message> in) {
    boolean[] learn = new boolean[in.size()];
    for (int i = 0; i < learn.length; i++) {
      learn[i] = in.get(i).weight() == 1;
    }
    return learn;
  }

  private static WhetException unsupported(Example e) {
    return new WhetException(
        "line "
            + e.line()
            + ": --task sft trains on prompt/completion, chat (messages) or instruction records,"
            + " not "
            + e.getClass().getSimpleName());
  }
}
