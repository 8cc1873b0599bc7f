"""Privacy: does the synthetic table leak real rows?"""

from __future__ import annotations

import numpy as np
import pandas as pd

from genmodels.evaluation._tables import Kind, row_hashes


def exact_match_rate(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict[str, Kind]) -> float:
    """Share of synthetic rows equal in every column to some real row (missing equals
    missing; numbers compared as float64). Range [0, 1], lower is safer; a copy of the
    real table scores 1. Tables with few discrete columns match by chance."""
    hr, hs = row_hashes(real, synth, kinds)
    return float(np.isin(hs, hr).mean())
