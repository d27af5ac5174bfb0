"""Compare search strategies on benchmark tables: strategies x seeds x datasets, anytime regret.

``compare(...)`` runs one in-memory search per (dataset, strategy, seed) and returns a
``ComparisonResult`` (JSON via ``to_dict``); ``markdown_report`` and ``plot_regret`` (matplotlib,
imported when called) turn it into a report and a PNG. The statistics helpers are public too.
"""

from predictor_nas.compare._plot import LOG_FLOOR, plot_regret
from predictor_nas.compare._report import markdown_report, seeds_text
from predictor_nas.compare._run import (
    DEFAULT_STRATEGIES,
    DEFAULT_THRESHOLDS,
    HIT_TOL,
    ComparisonResult,
    RunRecord,
    compare,
    parse_seeds,
    summarize,
)
from predictor_nas.compare._stats import (
    bootstrap_ci,
    mean_ci,
    mean_ci_columns,
    queries_to_reach,
    reach_summary,
    wilson_ci,
)

__all__ = [
    "DEFAULT_STRATEGIES",
    "DEFAULT_THRESHOLDS",
    "HIT_TOL",
    "LOG_FLOOR",
    "ComparisonResult",
    "RunRecord",
    "bootstrap_ci",
    "compare",
    "markdown_report",
    "mean_ci",
    "mean_ci_columns",
    "parse_seeds",
    "plot_regret",
    "queries_to_reach",
    "reach_summary",
    "seeds_text",
    "summarize",
    "wilson_ci",
]
