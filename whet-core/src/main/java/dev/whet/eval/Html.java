package dev.whet.eval;

/** HTML escaping: every piece of text that reaches the report goes through {@link #esc}. */
final class Html {
  private Html() {}

  /**
   * Escapes text for use in element content and in quoted attribute values (HTML and inline SVG).
   * Control characters other than tab, newline and carriage return are dropped, as they are not
   * allowed in HTML.
   */
  static String esc(String s) {
    if (s == null) return "";
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> {
          if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') b.append(c);
        }
      }
    }
    return b.toString();
  }
}
