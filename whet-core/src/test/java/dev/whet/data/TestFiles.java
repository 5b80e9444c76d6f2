package dev.whet.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Test resources under {@code /data}, copied where a test may write beside them. */
final class TestFiles {
  private TestFiles() {}

  /** The resource {@code data/NAME} copied into {@code dir} (same file name). */
  static Path copy(String name, Path dir) {
    try {
      Path src = Path.of(TestFiles.class.getResource("/data/" + name).toURI());
      Path dst = dir.resolve(src.getFileName().toString());
      Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
      return dst;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("missing test resource data/" + name, e);
    }
  }

  /** The real tokenizer of the default base model, as {@code dir/tokenizer.json}. */
  static Path tokenizer(Path dir) {
    try (var in = TestFiles.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
      Path p = dir.resolve("tokenizer.json");
      Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
