package dev.whet.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.whet.WhetException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of randomly corrupted variants of valid files: reading them must end in a clean result
 * (valid or a list of errors) or a {@link WhetException}, never anything else.
 */
class FuzzTest {
  private static final int CASES = 4000;

  @TempDir Path dir;

  private static final String[] WRONG_VALUES = {
    "1",
    "-2.5e308",
    "true",
    "null",
    "[]",
    "[1, {}]",
    "{}",
    "{\"a\": [\"b\"]}",
    "\"\"",
    "\"\\ud800\""
  };

  private record Seed(String format, byte[] bytes) {}

  private List<Seed> seeds() throws IOException {
    List<Seed> seeds = new ArrayList<>();
    seeds.add(
        jsonl(
            "{\"text\": \"good film\", \"label\": \"pos\"}", "{\"text\": \"bad\", \"label\": 0}"));
    seeds.add(jsonl("{\"text\": \"a\", \"text_pair\": \"b\", \"label\": \"same\"}"));
    seeds.add(
        jsonl(
            "{\"text\": \"a\", \"labels\": [\"x\", \"y\"]}", "{\"text\": \"b\", \"labels\": []}"));
    seeds.add(
        jsonl(
            "{\"messages\": [{\"role\": \"system\", \"content\": \"s\"}, {\"role\": \"user\","
                + " \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\", \"weight\":"
                + " 0}]}"));
    seeds.add(
        jsonl("{\"tokens\": [\"New\", \"York\", \"!\"], \"tags\": [\"B-LOC\", \"I-LOC\", \"O\"]}"));
    seeds.add(jsonl("{\"prompt\": \"p\", \"completion\": \"c\"}"));
    seeds.add(jsonl("{\"instruction\": \"i\", \"input\": \"\", \"output\": \"o\"}"));
    seeds.add(jsonl("{\"anchor\": \"a\", \"positive\": \"p\", \"negative\": \"n\"}"));
    seeds.add(jsonl("{\"sentence1\": \"a\", \"sentence2\": \"b\", \"score\": 3.2}"));
    seeds.add(head("amazon_books_dev.tsv", "tsv", DataOptions.defaults()));
    seeds.add(head("banking77_train.csv", "csv", DataOptions.defaults()));
    seeds.add(head("wnut17_dev.conll", "conll", DataOptions.defaults()));
    seeds.add(
        head(
            "mrpc_train.tsv",
            "tsv",
            DataOptions.defaults()
                .withQuotes(false)
                .withColumns("#1 String", "#2 String", "Quality")));
    return seeds;
  }

  /** The first 8 records of a real file (cut where the 9th starts), small so cases run fast. */
  private Seed head(String name, String format, DataOptions o) throws IOException {
    Path file = TestFiles.copy(name, dir);
    int cut = Dataset.load(file, o).examples().get(8).line();
    List<String> lines = Files.readAllLines(file);
    String text = String.join("\n", lines.subList(0, cut - 1)) + "\n";
    return new Seed(format, text.getBytes(StandardCharsets.UTF_8));
  }

  private static Seed jsonl(String... lines) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 5; i++) {
      for (String l : lines) {
        s.append(l).append('\n');
      }
    }
    return new Seed("jsonl", s.toString().getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void corruptedFilesNeverCrash() throws IOException {
    List<Seed> seeds = seeds();
    Random rng = new Random(20261123);
    int valid = 0;
    int invalid = 0;
    for (int c = 0; c < CASES; c++) {
      Seed seed = seeds.get(rng.nextInt(seeds.size()));
      byte[] bytes = corrupt(seed.bytes(), rng);
      DataOptions o = DataOptions.defaults().withMaxLineBytes(4096);
      if (rng.nextInt(8) == 0) {
        o = o.withTask(Task.values()[rng.nextInt(Task.values().length)]);
      }
      if (rng.nextInt(10) == 0) {
        o = o.withQuotes(false);
      }
      try {
        List<Example> kept = new ArrayList<>();
        ValidationReport r =
            Validator.validate(
                new ByteArrayInputStream(bytes), "fuzz", seed.format(), o, kept::add);
        assertEquals(r.count(), kept.size());
        assertTrue(r.errors().size() <= r.errorTotal());
        if (r.valid()) {
          valid++;
          // Whatever was accepted must survive the rest of the pipeline.
          Splitter.assign(kept, 0.2, 0.1, c);
          kept.forEach(e -> Splitter.toJson(e, r.task()));
        } else {
          invalid++;
        }
      } catch (WhetException e) {
        invalid++;
      } catch (Throwable t) {
        fail(
            "case "
                + c
                + " ("
                + seed.format()
                + ") threw "
                + t
                + "; input: "
                + HexFormat.of().formatHex(Arrays.copyOf(bytes, Math.min(bytes.length, 400))),
            t);
      }
    }
    // Both outcomes occur, so the corruptions are neither all fatal nor all harmless.
    assertTrue(valid > 100 && invalid > 100, "valid " + valid + ", invalid " + invalid);
  }

  private static byte[] corrupt(byte[] in, Random rng) {
    byte[] b = in.clone();
    int edits = 1 + rng.nextInt(3);
    for (int i = 0; i < edits; i++) {
      int pos = b.length == 0 ? 0 : rng.nextInt(b.length);
      switch (rng.nextInt(7)) {
        case 0 -> b = Arrays.copyOf(b, pos); // truncation
        case 1 -> { // byte flips, including invalid UTF-8 and control bytes
          for (int k = 0; k < 1 + rng.nextInt(4) && b.length > 0; k++) {
            b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
          }
        }
        case 2 -> b = insert(b, pos, "\n" + "x".repeat(4000 + rng.nextInt(3000)) + "\n"); // huge
        case 3 -> b = insert(b, pos, String.valueOf("\"{}[],:\t\n\r\\".charAt(rng.nextInt(11))));
        case 4 -> b = wrongType(b, rng);
        case 5 -> { // delete a range
          int len = Math.min(b.length - pos, rng.nextInt(50));
          byte[] out = new byte[b.length - len];
          System.arraycopy(b, 0, out, 0, pos);
          System.arraycopy(b, pos + len, out, pos, b.length - pos - len);
          b = out;
        }
        default -> b = insert(b, pos, "\u00e9\u2028\ufeff"); // odd but valid characters
      }
    }
    return b;
  }

  /** Replaces the value after a random {@code ": "} with a value of another type. */
  private static byte[] wrongType(byte[] b, Random rng) {
    String s = new String(b, StandardCharsets.ISO_8859_1);
    int at = s.indexOf("\": ", rng.nextInt(Math.max(1, s.length())));
    if (at < 0) {
      return b;
    }
    int start = at + 3;
    int end = start;
    while (end < s.length() && ",}\n".indexOf(s.charAt(end)) < 0) {
      end++;
    }
    String v = WRONG_VALUES[rng.nextInt(WRONG_VALUES.length)];
    return (s.substring(0, start) + v + s.substring(end)).getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] insert(byte[] b, int pos, String text) {
    byte[] t = text.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[b.length + t.length];
    System.arraycopy(b, 0, out, 0, pos);
    System.arraycopy(t, 0, out, pos, t.length);
    System.arraycopy(b, pos, out, pos + t.length, b.length - pos);
    return out;
  }
}
