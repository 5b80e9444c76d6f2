package dev.whet.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The report's charts as inline SVG strings. Every chart is an {@code <svg data-chart="NAME">}
 * element so tests (and readers' tools) can find it; all text is escaped.
 */
final class Svg {
  private Svg() {}

  static final String[] COLOURS = {
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"
  };

  /** A named line of (x, y) points; {@code markers} draws dots (sparse series such as evals). */
  record Series(String name, List<TrainingLog.Point> points, boolean markers) {}

  /** Lines against step with axes, ticks and a legend. */
  static String lineChart(String chart, String title, String yLabel, List<Series> series) {
    int w = 500, h = 280, left = 64, right = 16, top = 28, bottom = 48;
    double minX = Double.POSITIVE_INFINITY, maxX = Double.NEGATIVE_INFINITY;
    double minY = Double.POSITIVE_INFINITY, maxY = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (TrainingLog.Point p : s.points()) {
        minX = Math.min(minX, p.step());
        maxX = Math.max(maxX, p.step());
        minY = Math.min(minY, p.value());
        maxY = Math.max(maxY, p.value());
      }
    }
    if (maxX == minX) maxX = minX + 1;
    if (maxY == minY) {
      maxY += Math.abs(maxY) * 0.05 + 1e-9;
      minY -= Math.abs(minY) * 0.05 + 1e-9;
    }
    double x0 = minX, x1 = maxX, y0 = minY, y1 = maxY;
    int pw = w - left - right, ph = h - top - bottom;
    java.util.function.DoubleUnaryOperator sx = x -> left + (x - x0) / (x1 - x0) * pw;
    java.util.function.DoubleUnaryOperator sy = y -> top + ph - (y - y0) / (y1 - y0) * ph;
    StringBuilder b = open(chart, title, w, h);
    b.append(axes(left, top, pw, ph));
    for (double yv : niceTicks(y0, y1)) {
      b.append(
          fmt(
              "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"tick\">%s</text>",
              left - 6, sy.applyAsDouble(yv) + 4, Html.esc(num(yv))));
    }
    for (double xv : niceTicks(x0, x1)) {
      b.append(
          fmt(
              "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">%s</text>",
              sx.applyAsDouble(xv), top + ph + 16, Html.esc(num(xv))));
    }
    b.append(
        fmt(
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"axis-label\">step</text>",
            left + pw / 2, h - 8));
    b.append(
        fmt(
            "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" text-anchor=\"middle\""
                + " class=\"axis-label\">%s</text>",
            top + ph / 2, top + ph / 2, Html.esc(yLabel)));
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      String colour = COLOURS[i % COLOURS.length];
      StringBuilder pts = new StringBuilder();
      for (TrainingLog.Point p : s.points()) {
        pts.append(fmt("%.1f,%.1f ", sx.applyAsDouble(p.step()), sy.applyAsDouble(p.value())));
      }
      b.append(
          fmt(
              "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" points=\"%s\"/>",
              colour, pts.toString().trim()));
      if (s.markers()) {
        for (TrainingLog.Point p : s.points()) {
          b.append(
              fmt(
                  "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>",
                  sx.applyAsDouble(p.step()), sy.applyAsDouble(p.value()), colour));
        }
      }
      int lx = left + 8 + i * 150;
      b.append(fmt("<rect x=\"%d\" y=\"8\" width=\"12\" height=\"12\" fill=\"%s\"/>", lx, colour));
      b.append(
          fmt("<text x=\"%d\" y=\"18\" class=\"legend\">%s</text>", lx + 16, Html.esc(s.name())));
    }
    return b.append("</svg>").toString();
  }

  /**
   * Confusion matrix as a heat map: rows gold, columns predicted, each cell shaded by its share of
   * the row (so a rare class's errors are as visible as a frequent one's) and labelled with the
   * count when there is room.
   */
  static String heatMap(String chart, String title, int[][] cm, List<String> labels) {
    int k = cm.length;
    int cell = Math.max(8, Math.min(40, 560 / Math.max(1, k)));
    boolean showLabels = k <= 40;
    int left = showLabels ? 130 : 20, top = showLabels ? 110 : 20;
    int w = left + k * cell + 20, h = top + k * cell + 36;
    StringBuilder b = open(chart, title, w, h);
    for (int g = 0; g < k; g++) {
      long row = 0;
      for (int v : cm[g]) row += v;
      for (int p = 0; p < k; p++) {
        double share = row == 0 ? 0 : (double) cm[g][p] / row;
        String colour = g == p ? "37,99,235" : "220,38,38"; // right in blue, mistakes in red
        b.append(
            fmt(
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"rgba(%s,%.3f)\""
                    + " stroke=\"#e5e7eb\"><title>%s</title></rect>",
                left + p * cell,
                top + g * cell,
                cell,
                cell,
                colour,
                0.06 + 0.94 * share,
                Html.esc(
                    "gold " + labels.get(g) + ", predicted " + labels.get(p) + ": " + cm[g][p])));
        if (cell >= 22 && cm[g][p] > 0) {
          b.append(
              fmt(
                  "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"cell%s\">%d</text>",
                  left + p * cell + cell / 2,
                  top + g * cell + cell / 2 + 4,
                  share > 0.5 ? " light" : "",
                  cm[g][p]));
        }
      }
      if (showLabels) {
        b.append(
            fmt(
                "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"tick\">%s</text>",
                left - 6, top + g * cell + cell / 2 + 4, Html.esc(shorten(labels.get(g)))));
        int cx = left + g * cell + cell / 2;
        b.append(
            fmt(
                "<text x=\"%d\" y=\"%d\" transform=\"rotate(-45 %d %d)\" class=\"tick\">%s</text>",
                cx, top - 6, cx, top - 6, Html.esc(shorten(labels.get(g)))));
      }
    }
    b.append(
        fmt(
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"axis-label\">predicted →"
                + " (rows: gold)</text>",
            left + k * cell / 2, h - 10));
    return b.append("</svg>").toString();
  }

  /** One horizontal bar per item, value in [0, 1], with an optional interval whisker. */
  record Bar(String label, double value, Interval interval, String note) {}

  static String bars(String chart, String title, List<Bar> bars) {
    int left = 250, right = 90, rowH = 22, top = 10, pw = 300;
    int w = left + pw + right, h = top + bars.size() * rowH + 30;
    StringBuilder b = open(chart, title, w, h);
    for (int i = 0; i < bars.size(); i++) {
      Bar bar = bars.get(i);
      int y = top + i * rowH;
      double v = Double.isNaN(bar.value()) ? 0 : Math.max(0, Math.min(1, bar.value()));
      b.append(
          fmt(
              "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"tick\">%s</text>",
              left - 6, y + 15, Html.esc(shorten(bar.label(), 36))));
      b.append(
          fmt(
              "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s</title></rect>",
              left,
              y + 3,
              Math.max(1, v * pw),
              rowH - 6,
              COLOURS[0],
              Html.esc(bar.label() + ": " + num(bar.value()))));
      if (bar.interval() != null) {
        double lo = left + clamp(bar.interval().low()) * pw;
        double hi = left + clamp(bar.interval().high()) * pw;
        b.append(
            fmt(
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#111827\""
                    + " stroke-width=\"1.5\"/>",
                lo, hi, y + rowH / 2, y + rowH / 2));
      }
      b.append(
          fmt(
              "<text x=\"%d\" y=\"%d\" class=\"tick\">%s</text>",
              left + pw + 6, y + 15, Html.esc(num(bar.value()) + bar.note())));
    }
    int axisY = top + bars.size() * rowH + 4;
    b.append(
        fmt(
            "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"axis\"/>",
            left, left + pw, axisY, axisY));
    for (int t = 0; t <= 4; t++) {
      b.append(
          fmt(
              "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">%s</text>",
              left + pw * t / 4, axisY + 16, num(t / 4.0)));
    }
    return b.append("</svg>").toString();
  }

  private static StringBuilder open(String chart, String title, int w, int h) {
    StringBuilder b = new StringBuilder();
    b.append(
        fmt(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" data-chart=\"%s\" role=\"img\""
                + " width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"><title>%s</title>",
            Html.esc(chart), w, h, w, h, Html.esc(title)));
    return b;
  }

  private static String axes(int left, int top, int pw, int ph) {
    return fmt(
        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>"
            + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>",
        left, top, left, top + ph, left, top + ph, left + pw, top + ph);
  }

  /** About five round tick values (1, 2 or 5 times a power of ten apart) inside [lo, hi]. */
  static List<Double> niceTicks(double lo, double hi) {
    double raw = (hi - lo) / 4;
    double mag = Math.pow(10, Math.floor(Math.log10(raw)));
    double step = mag;
    for (double m : new double[] {2, 5, 10}) { // the step closest to raw on a log scale
      if (Math.abs(Math.log(m * mag / raw)) < Math.abs(Math.log(step / raw))) step = m * mag;
    }
    List<Double> ticks = new ArrayList<>();
    for (double t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
      ticks.add(Math.abs(t) < step * 1e-9 ? 0 : t);
    }
    return ticks;
  }

  private static double clamp(double v) {
    return Math.max(0, Math.min(1, v));
  }

  static String shorten(String s) {
    return shorten(s, 18);
  }

  static String shorten(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }

  /** Compact number: 3 significant digits, scientific for very small or large values. */
  static String num(double v) {
    if (Double.isNaN(v)) return "–";
    if (v == Math.rint(v) && Math.abs(v) < 1e7) return Long.toString((long) v);
    double a = Math.abs(v);
    if (a != 0 && (a < 1e-3 || a >= 1e5)) return String.format(Locale.ROOT, "%.2e", v);
    return String.format(Locale.ROOT, "%.3g", v)
        .replaceAll("(\\.\\d*?)0+$", "$1")
        .replaceAll("\\.$", "");
  }

  static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  static List<Series> seriesOf(TrainingLog log, List<String> keys, boolean markers) {
    List<Series> out = new ArrayList<>();
    for (String key : keys) {
      if (!log.get(key).isEmpty()) out.add(new Series(key, log.get(key), markers));
    }
    return out;
  }
}
