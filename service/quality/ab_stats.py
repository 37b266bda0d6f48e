"""The statistics of an A/B test on click-through rates: small pure functions over counts.

A variant's CTR is clicks / impressions, a binomial proportion. Its interval is Wilson's
(good at small counts and near 0, where the normal interval leaves [0, 1]); a variant is
compared with the control by the pooled two-proportion z-test (two-sided); the planned sample
size is the classic one for that test at a given baseline CTR, relative minimum detectable
effect, alpha and power. With several variants against one control, each comparison is
tested at alpha / (variants - 1) (Bonferroni), so the chance of any false win stays alpha.
"""

from __future__ import annotations

import math
from statistics import NormalDist

_NORMAL = NormalDist()


def z_quantile(p: float) -> float:
    """The standard normal quantile: z_quantile(0.975) = 1.96."""
    return _NORMAL.inv_cdf(p)


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) when there are no trials. Successes
    beyond the trials (clicks through links whose impression was never reported) count as
    the trials."""
    if trials <= 0:
        return 0.0, 1.0
    successes = min(successes, trials)
    z = z_quantile(0.5 + confidence / 2)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_test(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> tuple[float, float]:
    """(z, two-sided p) of the pooled z-test that proportion b differs from a; z > 0 when b
    is higher. (0, 1) when either side has no trials or nothing varies."""
    if trials_a <= 0 or trials_b <= 0:
        return 0.0, 1.0
    successes_a, successes_b = min(successes_a, trials_a), min(successes_b, trials_b)
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    if spread == 0:
        return 0.0, 1.0
    z = (successes_b / trials_b - successes_a / trials_a) / spread
    return z, 2 * (1 - _NORMAL.cdf(abs(z)))


def sample_size(baseline: float, relative_mde: float, alpha: float, power: float) -> int:
    """Trials per variant for a two-sided two-proportion test to detect `baseline` moving to
    `baseline * (1 + relative_mde)` with probability `power` at level `alpha`."""
    if not 0 < baseline < 1:
        raise ValueError(f"the baseline CTR must be between 0 and 1, got {baseline}")
    target = baseline * (1 + relative_mde)
    if not 0 < target < 1 or target == baseline:
        raise ValueError(
            f"a relative MDE of {relative_mde} from a baseline of {baseline} is not a CTR"
        )
    z_alpha = z_quantile(1 - alpha / 2)
    z_power = z_quantile(power)
    mean = (baseline + target) / 2
    spread = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_power * math.sqrt(
        baseline * (1 - baseline) + target * (1 - target)
    )
    return math.ceil(spread * spread / (target - baseline) ** 2)
