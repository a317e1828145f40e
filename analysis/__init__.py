"""agora.analysis: load stored runs, summarise them per cell with confidence intervals,
and measure graphs (:mod:`agora.analysis.graphs`: the metric panel of growing graphs).

Example:
    >>> import pandas as pd
    >>> from agora.analysis import summarize
    >>> df = pd.DataFrame({"cell": [0, 0, 0], "status": ["ok"] * 3,
    ...                    "return.player_0": [1.0, 2.0, 3.0]})
    >>> float(summarize(df)["return.player_0.mean"].iloc[0])
    2.0
"""

from agora.analysis.graphs import metric_panel, panel_over_iterations
from agora.analysis.runs import Run, format_summary, load_run, summarize
from agora.analysis.stats import mean_ci

__all__ = ["Run", "format_summary", "load_run", "mean_ci", "metric_panel",
           "panel_over_iterations", "summarize"]
