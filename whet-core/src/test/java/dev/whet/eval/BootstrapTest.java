package dev.whet.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BootstrapTest {
  @Test
  void intervalContainsTheEstimateAndHasTheExpectedWidth() {
    // 1,000 examples at 80% accuracy: the normal approximation gives +-1.96*sqrt(.8*.2/1000)=0.0248
    int n = 1000;
    int[] gold = new int[n];
    int[] pred = new int[n];
    for (int i = 0; i < n; i++) pred[i] = i % 5 == 0 ? 1 : 0;
    Interval ci = new Bootstrap().interval(n, Bootstrap.SampleMetric.accuracy(gold, pred));
    assertEquals(0.8, ci.estimate(), 1e-12);
    assertTrue(ci.contains(0.8));
    assertEquals(0.0496, ci.high() - ci.low(), 0.006);
  }

  @Test
  void sameSeedGivesTheSameInterval() {
    int[] gold = {0, 1, 1, 0, 1, 0, 0, 1, 1, 1};
    int[] pred = {0, 1, 0, 0, 1, 1, 0, 1, 1, 0};
    Bootstrap.SampleMetric f1 = Bootstrap.SampleMetric.f1Macro(gold, pred, 2);
    assertEquals(new Bootstrap().interval(10, f1), new Bootstrap().interval(10, f1));
  }

  @Test
  void pairedDifferenceSeesASmallConsistentGainThatSeparateIntervalsMiss() {
    // B is right on 70% of examples; A is right wherever B is, plus 3% more.
    int n = 2000;
    SplittableRandom r = new SplittableRandom(1);
    int[] gold = new int[n];
    int[] a = new int[n];
    int[] b = new int[n];
    for (int i = 0; i < n; i++) {
      double u = r.nextDouble();
      b[i] = u < 0.70 ? 0 : 1;
      a[i] = u < 0.73 ? 0 : 1;
    }
    Bootstrap boot = new Bootstrap();
    Bootstrap.SampleMetric accA = Bootstrap.SampleMetric.accuracy(gold, a);
    Bootstrap.SampleMetric accB = Bootstrap.SampleMetric.accuracy(gold, b);
    Interval ia = boot.interval(n, accA);
    Interval ib = boot.interval(n, accB);
    assertTrue(ia.low() < ib.high(), "separate intervals overlap");
    Interval diff = boot.difference(n, accA, accB);
    assertTrue(diff.excludesZero(), "paired interval " + diff);
    assertTrue(boot.isBetter(n, accA, accB));
    assertFalse(boot.isBetter(n, accB, accA));
    assertFalse(boot.isBetter(n, accA, accA), "a system is not better than itself");
  }

  @Test
  void quantileInterpolatesLikeNumpy() {
    double[] sorted = {1, 2, 3, 4};
    assertEquals(1.075, Bootstrap.quantile(sorted, 0.025), 1e-12); // numpy.percentile(.., 2.5)
    assertEquals(3.925, Bootstrap.quantile(sorted, 0.975), 1e-12);
  }
}
