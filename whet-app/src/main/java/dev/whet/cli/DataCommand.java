package dev.whet.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.whet.WhetException;
import dev.whet.data.DataError;
import dev.whet.data.DataOptions;
import dev.whet.data.DataStats;
import dev.whet.data.Splitter;
import dev.whet.data.Task;
import dev.whet.data.ValidationReport;
import dev.whet.io.ModelCatalog;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code whet data}: check and split fine-tuning datasets. */
@Command(
    name = "data",
    description = "Check, describe and split fine-tuning datasets.",
    mixinStandardHelpOptions = true,
    subcommands = {DataCommand.Check.class, DataCommand.Split.class})
public final class DataCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** How to read the file; shared by check and split. */
  static final class ReadOptions {
    @Option(
        names = "--task",
        paramLabel = "TASK",
        description =
            "classify, multilabel, pair, tokens, generate, chat, instruct, embed or similarity"
                + " (default: detected from the fields)")
    String task;

    @Option(
        names = "--format",
        paramLabel = "FORMAT",
        description = "jsonl, csv, tsv or conll (default: by file extension)")
    String format;

    @Option(
        names = "--encoding",
        paramLabel = "CHARSET",
        description = "file encoding, e.g. ISO-8859-1 (default: UTF-8)")
    String encoding;

    @Option(names = "--text-column", paramLabel = "NAME", description = "CSV/TSV text column")
    String textColumn;

    @Option(
        names = "--pair-column",
        paramLabel = "NAME",
        description = "CSV/TSV column of the second text (pair tasks)")
    String pairColumn;

    @Option(names = "--label-column", paramLabel = "NAME", description = "CSV/TSV label column")
    String labelColumn;

    @Option(
        names = "--no-quotes",
        description = "CSV/TSV quotes are plain text (split on the delimiter only)")
    boolean noQuotes;

    @Option(
        names = "--labels",
        split = ",",
        paramLabel = "LABEL",
        description = "declared label set; other labels are errors")
    List<String> labels;

    @Option(
        names = "--max-line-bytes",
        paramLabel = "N",
        description = "longest record accepted (default: 1 MiB)")
    int maxLineBytes = DataOptions.DEFAULT_MAX_LINE_BYTES;

    @Option(
        names = "--max-errors",
        paramLabel = "N",
        description = "errors listed before only counting (default: 20)")
    int maxErrors = 20;

    DataOptions toOptions() {
      DataOptions o =
          DataOptions.defaults()
              .withTask(task == null ? null : Task.parse(task))
              .withFormat(format)
              .withColumns(textColumn, pairColumn, labelColumn)
              .withQuotes(!noQuotes)
              .withLabels(labels == null ? null : new HashSet<>(labels))
              .withMaxLineBytes(maxLineBytes)
              .withMaxErrors(maxErrors);
      if (encoding != null) {
        try {
          o = o.withEncoding(Charset.forName(encoding));
        } catch (IllegalArgumentException e) {
          throw new WhetException(
              "unknown encoding '" + encoding + "' — use e.g. UTF-8 or ISO-8859-1", 2, e);
        }
      }
      return o;
    }
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Validate a dataset, describe it and advise.",
        "Exit status: 0 valid, 1 invalid (errors listed), 2 unreadable."
      })
  static final class Check implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "JSONL, CSV, TSV or CoNLL file")
    Path file;

    @Mixin ReadOptions read;

    @Option(
        names = "--base",
        paramLabel = "MODEL",
        description = "base model (name or HF directory) for token-length statistics")
    String base;

    @Option(
        names = "--max-length",
        paramLabel = "N",
        description = "model maximum length (default: from the model's tokenizer/config)")
    Integer maxLength;

    @Option(
        names = "--token-share",
        paramLabel = "SHARE",
        description =
            "tokenize only this share of examples (chosen by hash) for the length statistics;"
                + " for very large files (default: 1, all)")
    double tokenShare = 1;

    @Option(names = "--val", paramLabel = "FILE", description = "validation file to check leakage")
    Path val;

    @Option(names = "--json", description = "print one JSON object (for scripts)")
    boolean json;

    @Override
    public Integer call() throws Exception {
      DataStats stats;
      try {
        DataOptions options = read.toOptions();
        Path tokenizer = null;
        int max = 0;
        if (base != null) {
          Path dir = ModelCatalog.resolve(base);
          max = maxLength != null ? maxLength : DataStats.maxLengthOf(dir);
          tokenizer = dir.resolve("tokenizer.json");
        }
        stats = DataStats.compute(file, options, tokenizer, max, val, tokenShare);
      } catch (WhetException e) {
        if (!json) {
          throw e;
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("file", file.toString()).put("valid", false).put("count", 0);
        o.putArray("errors").addObject().put("line", 0).put("message", e.getMessage());
        o.put("unreadable", true);
        System.out.println(JSON.writeValueAsString(o));
        return e.exitCode();
      }
      ValidationReport r = stats.report();
      if (json) {
        System.out.println(JSON.writeValueAsString(stats.toJson()));
      } else {
        print(stats);
      }
      return r.valid() ? 0 : 1;
    }

    private static void print(DataStats s) {
      ValidationReport r = s.report();
      String task = r.task() == null ? "unknown task" : r.task().cliName();
      if (r.valid()) {
        System.out.printf(Locale.ROOT, "%s: valid, %,d examples (%s)%n", r.file(), r.count(), task);
      } else {
        System.out.printf(
            Locale.ROOT,
            "%s: INVALID, %,d %s; %,d valid examples (%s)%n",
            r.file(),
            r.errorTotal(),
            r.errorTotal() == 1 ? "error" : "errors",
            r.count(),
            task);
        for (DataError e : r.errors()) {
          System.out.println("  " + e);
        }
        if (r.errorTotal() > r.errors().size()) {
          System.out.printf(
              Locale.ROOT, "  ... and %,d more%n", r.errorTotal() - r.errors().size());
        }
      }
      if (!s.labelCounts().isEmpty()) {
        double ratio = s.imbalanceRatio();
        System.out.printf(
            Locale.ROOT,
            "labels: %d%s%n",
            s.labelCounts().size(),
            Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, " (imbalance %.1fx)", ratio));
        int shown = 0;
        for (Map.Entry<String, Integer> e : s.labelCounts().entrySet()) {
          if (shown++ == 30) {
            System.out.printf("  ... %d more%n", s.labelCounts().size() - 30);
            break;
          }
          String label = e.getKey().length() > 30 ? e.getKey().substring(0, 29) + "…" : e.getKey();
          System.out.printf(Locale.ROOT, "  %-30s %,8d%n", label, e.getValue());
        }
      }
      System.out.printf(
          Locale.ROOT,
          "duplicates: %,d exact, %,d normalised, %,d with conflicting labels%n",
          s.exactDuplicates(),
          s.normalizedDuplicates(),
          s.conflictingDuplicates());
      DataStats.PreferenceStats p = s.preferences();
      if (p != null) {
        System.out.printf(
            Locale.ROOT,
            "preference pairs: %,d; %,d with identical answers; chosen answer the longer in %.0f%%"
                + " (mean %.0f against %.0f characters)%n",
            p.pairs(),
            p.identical(),
            100 * p.chosenLonger(),
            p.meanChosenChars(),
            p.meanRejectedChars());
      }
      if (s.leakage() != null) {
        System.out.printf(Locale.ROOT, "validation examples also in training: %,d%n", s.leakage());
      }
      DataStats.TokenStats t = s.tokens();
      if (t != null) {
        System.out.printf(
            Locale.ROOT,
            "tokens (%,d examples): p50 %d, p90 %d, p95 %d, p99 %d, max %d; %.1f%% over the"
                + " model's %d%n",
            t.counted(),
            t.p50(),
            t.p90(),
            t.p95(),
            t.p99(),
            t.max(),
            100 * t.truncated(),
            t.maxLength());
      }
      if (s.roles() != null) {
        s.roles()
            .forEach(
                (role, rs) ->
                    System.out.printf(
                        Locale.ROOT,
                        "  %-9s %,d turns, %,d tokens%n",
                        role,
                        rs.turns(),
                        rs.tokens()));
      }
      for (DataStats.Advice a : s.advice()) {
        System.out.println("advice: " + a.message());
      }
    }
  }

  @Command(
      name = "split",
      mixinStandardHelpOptions = true,
      description = {
        "Split a dataset into NAME.train.jsonl, NAME.val.jsonl [and NAME.test.jsonl] beside it.",
        "Stratified by label, duplicates kept on one side, deterministic for a seed."
      })
  static final class Split implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "JSONL, CSV, TSV or CoNLL file")
    Path file;

    @Mixin ReadOptions read;

    @Option(names = "--val", paramLabel = "SHARE", description = "validation share (default: 0.1)")
    double val = 0.1;

    @Option(names = "--test", paramLabel = "SHARE", description = "test share (default: 0)")
    double test = 0;

    @Option(names = "--seed", paramLabel = "N", description = "random seed (default: 42)")
    long seed = 42;

    @Option(names = "--json", description = "print the counts as JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
      Splitter.Result r = Splitter.split(file, read.toOptions(), val, test, seed);
      if (json) {
        ObjectNode o = JSON.createObjectNode();
        putPart(o, "train", r.train());
        putPart(o, "val", r.val());
        if (r.test() != null) {
          putPart(o, "test", r.test());
        }
        System.out.println(JSON.writeValueAsString(o));
      } else {
        printPart("train", r.train());
        printPart("val", r.val());
        if (r.test() != null) {
          printPart("test", r.test());
        }
      }
      return 0;
    }

    private static void putPart(ObjectNode o, String name, Splitter.Part p) {
      o.putObject(name).put("file", p.file().toString()).put("count", p.count());
    }

    private static void printPart(String name, Splitter.Part p) {
      System.out.printf(Locale.ROOT, "%-5s %,8d  %s%n", name, p.count(), p.file());
    }
  }
}
