"""The Lagrangian lower bound of the uncapacitated p-median (``mean-time`` with
``method='auto'``), which certifies national instances too large for the MIP: the
assignment constraints are relaxed and the multipliers improved by deflected subgradient
steps (the kernel :func:`hexaccess.optimise._kernels.lagrangian_pmedian`)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hexaccess.optimise import _kernels as K
from hexaccess.optimise.mip import PMedianPairs
from hexaccess.optimise.problem import CostModel, SiteRules

__all__ = ["lagrangian_pmedian"]


def lagrangian_pmedian(
    model: CostModel,
    rules: SiteRules,
    pairs: PMedianPairs,
    p: int,
    is_open: npt.NDArray[np.bool_],
    iters: int,
) -> float:
    """Lagrangian lower bound (model units) of the uncapacitated p-median, started from
    the multipliers of the heuristic solution ``is_open`` (its per-cell costs)."""
    free = pairs.free
    pptr = np.zeros(free.size + 1, np.int64)
    np.cumsum(np.bincount(pairs.col_of[pairs.site], minlength=free.size), out=pptr[1:])
    d_heur, _, _ = K.assign(model.rptr, model.rcand, model.rcost, is_open, model.pen)
    ub = float(K.objective(model.w, d_heur))
    lam = model.w * d_heur
    k = p - int(rules.fixed.sum())
    return float(
        K.lagrangian_pmedian(
            pptr,
            pairs.cell,
            pairs.cost,
            model.w,
            pairs.cap,
            k,
            ub,
            lam,
            rules.region[free],  # all -1 when the rule is off
            rules.needed,
            iters,
            1e-7,
        )
    )
