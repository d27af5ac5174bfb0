"""Compare search strategies on benchmark tables: strategies x seeds x datasets, anytime regret.

``compare(...)`` runs one in-memory search per (dataset, strategy, seed) and returns a
``ComparisonResult`` (JSON via ``to_dict``); ``markdown_report`` and ``plot_regret`` (matplotlib,
imported when called) turn it into a report and a PNG. The statistics helpers are public too.

``compare_mo(objectives=..., constraints=...)`` is the multi-objective mode: anytime hypervolume
regret (normalised by the true front's hypervolume) and front coverage per query, with
``markdown_report_mo``, ``plot_regret_mo`` and ``write_mo_report``.
"""

from predictor_nas.compare._args import (
    parse_seeds,
)
from predictor_nas.compare._html import write_html_report
from predictor_nas.compare._mo import (
    DEFAULT_MO_STRATEGIES,
    DEFAULT_MO_THRESHOLDS,
    MOComparisonResult,
    MORunRecord,
    anytime_regret,
    compare_mo,
    leads_from,
    markdown_report_mo,
    plot_regret_mo,
    summarize_mo,
    write_mo_report,
)
from predictor_nas.compare._plot import LOG_FLOOR, plot_regret
from predictor_nas.compare._records import (
    ComparisonResult,
    RunRecord,
)
from predictor_nas.compare._report import markdown_report, seeds_text
from predictor_nas.compare._run import DEFAULT_STRATEGIES
from predictor_nas.compare._stats import (
    bootstrap_ci,
    mean_ci,
    mean_ci_columns,
    queries_to_reach,
    reach_summary,
    wilson_ci,
)
from predictor_nas.compare._summary import (
    DEFAULT_THRESHOLDS,
    HIT_TOL,
    summarize,
)
from predictor_nas.compare._table import compare

__all__ = [
    "DEFAULT_MO_STRATEGIES",
    "DEFAULT_MO_THRESHOLDS",
    "DEFAULT_STRATEGIES",
    "DEFAULT_THRESHOLDS",
    "HIT_TOL",
    "LOG_FLOOR",
    "ComparisonResult",
    "MOComparisonResult",
    "MORunRecord",
    "RunRecord",
    "anytime_regret",
    "bootstrap_ci",
    "compare",
    "compare_mo",
    "leads_from",
    "markdown_report",
    "markdown_report_mo",
    "mean_ci",
    "mean_ci_columns",
    "parse_seeds",
    "plot_regret",
    "plot_regret_mo",
    "queries_to_reach",
    "reach_summary",
    "seeds_text",
    "summarize",
    "summarize_mo",
    "wilson_ci",
    "write_html_report",
    "write_mo_report",
]
