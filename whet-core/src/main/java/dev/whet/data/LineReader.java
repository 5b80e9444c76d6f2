package dev.whet.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads a byte stream line by line and decodes each line on its own, so an encoding error is
 * reported with its line and byte column instead of silently becoming U+FFFD or failing the whole
 * file. Strips a UTF-8 byte order mark and {@code \r\n} endings. Lines over the size limit are
 * skipped without being held in memory.
 */
final class LineReader {
  /** What happened to the line just read. */
  enum Status {
    OK,
    BAD_ENCODING,
    TOO_LONG,
    EOF
  }

  private final InputStream in;
  private final int maxBytes;
  private final CharsetDecoder decoder;
  private final byte[] buf = new byte[1 << 16];
  private int pos;
  private int limit;
  private byte[] line = new byte[1024];
  private int lineLen;
  private CharBuffer chars = CharBuffer.allocate(1024);
  private int lineNumber;
  private long bytesRead;

  /** The last line's text (valid only after {@link Status#OK}). */
  String text;

  /** 1-based byte column of the first undecodable byte (after {@link Status#BAD_ENCODING}). */
  int badColumn;

  LineReader(InputStream in, Charset charset, int maxBytes) {
    this.in = in;
    this.maxBytes = maxBytes;
    this.decoder =
        charset
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
  }

  /** 1-based number of the line last returned. */
  int lineNumber() {
    return lineNumber;
  }

  /** Bytes consumed so far. */
  long bytesRead() {
    return bytesRead;
  }

  /** Reads the next line. */
  Status next() throws IOException {
    lineLen = 0;
    boolean tooLong = false;
    boolean any = false;
    while (true) {
      if (pos == limit) {
        limit = in.read(buf);
        pos = 0;
        if (limit <= 0) {
          limit = 0;
          if (!any) {
            return Status.EOF;
          }
          break;
        }
        bytesRead += limit;
      }
      any = true;
      int start = pos;
      while (pos < limit && buf[pos] != '\n') {
        pos++;
      }
      int n = pos - start;
      boolean newline = pos < limit;
      if (newline) {
        pos++;
      }
      if (!tooLong) {
        if (lineLen + n > maxBytes) {
          tooLong = true;
        } else {
          append(start, n);
        }
      }
      if (newline) {
        break;
      }
    }
    lineNumber++;
    if (tooLong) {
      return Status.TOO_LONG;
    }
    if (lineLen > 0 && line[lineLen - 1] == '\r') {
      lineLen--;
    }
    int offset = 0;
    if (lineNumber == 1
        && lineLen >= 3
        && (line[0] & 0xff) == 0xEF
        && (line[1] & 0xff) == 0xBB
        && (line[2] & 0xff) == 0xBF
        && decoder.charset().equals(StandardCharsets.UTF_8)) {
      offset = 3;
    }
    return decode(offset);
  }

  private void append(int start, int n) {
    if (lineLen + n > line.length) {
      line = Arrays.copyOf(line, Math.max(lineLen + n, line.length * 2));
    }
    System.arraycopy(buf, start, line, lineLen, n);
    lineLen += n;
  }

  private Status decode(int offset) {
    ByteBuffer bytes = ByteBuffer.wrap(line, offset, lineLen - offset);
    int need = (int) Math.ceil((lineLen - offset) * (double) decoder.maxCharsPerByte()) + 1;
    if (chars.capacity() < need) {
      chars = CharBuffer.allocate(need);
    }
    chars.clear();
    decoder.reset();
    CoderResult r = decoder.decode(bytes, chars, true);
    if (!r.isError()) {
      r = decoder.flush(chars);
    }
    if (r.isError()) {
      badColumn = bytes.position() + 1;
      return Status.BAD_ENCODING;
    }
    chars.flip();
    text = chars.toString();
    return Status.OK;
  }
}
