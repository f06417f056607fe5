"""Calibration evaluations on Dask: a batch of profiles, one task each.

:func:`hexaccess.calibrate.calibrate` with ``client=`` sends each parameter's grid of the
coordinate scan (:meth:`hexaccess.calibrate.FastEvaluator.histograms`) here: every
profile is one task that returns its :class:`~hexaccess.results.BandHistogram`, and the
driver takes the results in grid order, so the search takes exactly the single-machine
path. The evaluator's fixed arrays (:class:`EvaluatorArrays`: arc ends and lengths, the
road and density class of every edge, the access legs, the weights, the offices' nodes)
go to every worker once (a broadcast scatter); a worker rebuilds the evaluator from them
once (:func:`worker_evaluator`) and builds each profile's graph from arrays as the
single-machine evaluator does. The Rust graph handle is never pickled.

The histograms are bit-identical: the worker runs the same
:meth:`~hexaccess.calibrate.FastEvaluator.histogram` code on the same float64 arrays.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt

from hexaccess.calibrate import FastEvaluator
from hexaccess.profiles import SpeedProfile
from hexaccess.results import BandHistogram

__all__ = ["EvaluatorArrays", "RemoteEvaluator", "worker_evaluator"]

#: The fixed arrays :meth:`FastEvaluator.edge_times`, ``graph`` and ``histogram`` read.
_ARRAYS = (
    "_ids", "_class_keys", "_class_code", "_road", "_density", "_thresholds",
    "_density_class", "_no_density", "_cell_len", "_office_len", "_tail", "_head", "_len",
    "_weights", "office_indices",
)  # fmt: skip


@dataclass(frozen=True)
class EvaluatorArrays:
    """What a worker needs to evaluate profiles: plain arrays and settings (picklable;
    no graph handle, no road table). ``token`` names one shipment, so that a worker
    builds its evaluator once per shipment."""

    token: str
    arrays: dict[str, Any]
    time_s: npt.NDArray[np.float64]
    length_m: npt.NDArray[np.float64]
    class_column: str
    office_node: npt.NDArray[np.int64]
    num_nodes: int
    column: str
    backend: str

    @classmethod
    def of(cls, ev: FastEvaluator) -> EvaluatorArrays:
        """The arrays of a built evaluator (shared, not copied: they are only read)."""
        return cls(
            token=uuid.uuid4().hex,
            arrays={name: getattr(ev, name) for name in _ARRAYS},
            time_s=np.asarray(ev.network.time_s),
            length_m=np.asarray(ev.network.length_m),
            class_column=ev.network.class_column,
            office_node=np.asarray(ev.access.office_node),
            num_nodes=int(ev.access.graph.num_nodes),
            column=ev.column,
            backend=ev.backend,
        )

    def evaluator(self) -> FastEvaluator:
        """A :class:`FastEvaluator` on these arrays: the road table and the access graph
        are stood in for by the few fields its evaluation reads, so every histogram is
        computed by the single-machine code."""
        ev = FastEvaluator.__new__(FastEvaluator)
        for name, value in self.arrays.items():
            setattr(ev, name, value)
        ev.network = SimpleNamespace(
            time_s=self.time_s, length_m=self.length_m, class_column=self.class_column
        )
        ev.access = SimpleNamespace(
            office_node=self.office_node, graph=SimpleNamespace(num_nodes=self.num_nodes)
        )
        ev.column, ev.backend, ev.evaluations = self.column, self.backend, 0
        return ev


#: Evaluators built on this worker, by shipment (a few, for calibrations sharing it).
_BUILT: OrderedDict[str, FastEvaluator] = OrderedDict()
_KEEP = 4


def worker_evaluator(arrays: EvaluatorArrays) -> FastEvaluator:
    """The evaluator of a shipment on this process, built at its first task."""
    ev = _BUILT.get(arrays.token)
    if ev is None:
        ev = _BUILT[arrays.token] = arrays.evaluator()
        while len(_BUILT) > _KEEP:
            _BUILT.popitem(last=False)
    return ev


def _histogram_task(
    arrays: EvaluatorArrays, profile: SpeedProfile, band_edges_s: npt.NDArray[np.float64] | None
) -> BandHistogram:
    """The Dask task: one profile's histogram."""
    return worker_evaluator(arrays).histogram(profile, band_edges_s)


class RemoteEvaluator:
    """A :class:`FastEvaluator`'s arrays on the workers of a Dask ``client`` (sent once,
    to every worker), evaluating batches of profiles there."""

    def __init__(self, evaluator: FastEvaluator, client: Any) -> None:
        self.client = client
        # One object (not a list, which would be scattered element by element), sent to
        # every worker: each task of every batch then finds it locally.
        self._arrays = client.scatter(EvaluatorArrays.of(evaluator), broadcast=True, hash=False)

    def histograms(
        self, profiles: Sequence[SpeedProfile], band_edges_s: npt.ArrayLike | None = None
    ) -> Iterator[BandHistogram]:
        """One histogram per profile, yielded in the order of ``profiles`` (each as soon
        as it and those before it are done); all tasks are submitted at once."""
        edges = None if band_edges_s is None else np.asarray(band_edges_s, dtype=np.float64)
        futures = [
            self.client.submit(_histogram_task, self._arrays, p, edges, pure=False)
            for p in profiles
        ]
        try:
            for f in futures:
                yield f.result()
        finally:
            for f in futures:
                f.release()

    def close(self) -> None:
        """Release the arrays on the workers."""
        self._arrays.release()
