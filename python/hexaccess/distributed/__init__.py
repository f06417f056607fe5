"""Coverage matrices and scenario sweeps on Dask distributed (``hexaccess[dask]``).

* :func:`connect` (``--scheduler ADDRESS|local[:N]``): a ``distributed.Client`` on a
  running cluster or a local one.
* :func:`hexaccess.optimise.coverage_matrix` with ``client=``: the matrix in candidate
  blocks as Dask tasks (:mod:`hexaccess.distributed.matrix`), written block by block into
  the partitioned ``entries/`` dataset of the matrix cache; bit-identical to one machine.
* :class:`MatrixPartitions` / :func:`evaluate_networks` and :func:`coverage_curve`: many
  office networks evaluated over a matrix partitioned by cells across the workers
  (band histograms summed per partition; :mod:`hexaccess.distributed.sweep`), and the
  coverage curve's office counts solved as separate tasks.
* calibration: ``calibrate(..., client=)`` evaluates the coordinate scan's grids as tasks
  (:class:`RemoteEvaluator`, :mod:`hexaccess.distributed.calibrate`), bit-identical.

Nothing here is imported by the single-machine path: ``dask`` is needed only when a
client is given.
"""

from __future__ import annotations

from hexaccess.distributed.calibrate import EvaluatorArrays, RemoteEvaluator
from hexaccess.distributed.cluster import SchedulerSpec, connect, host_slots, parse_scheduler
from hexaccess.distributed.matrix import GraphBundle, block_ranges, search_blocks
from hexaccess.distributed.sweep import MatrixPartitions, coverage_curve, evaluate_networks

__all__ = [
    "EvaluatorArrays",
    "GraphBundle",
    "MatrixPartitions",
    "RemoteEvaluator",
    "SchedulerSpec",
    "block_ranges",
    "connect",
    "coverage_curve",
    "evaluate_networks",
    "host_slots",
    "parse_scheduler",
    "search_blocks",
]
