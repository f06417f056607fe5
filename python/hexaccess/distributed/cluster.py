"""Connecting to Dask: ``--scheduler ADDRESS|local[:N]`` as a ``distributed.Client``.

``local`` starts a ``distributed.LocalCluster`` of worker *processes* on this machine
(one per core), ``local:N`` one of ``N`` workers; anything else is the address of a
running scheduler (``tcp://host:8786``, ``host:8786``, or a scheduler file ending in
``.json`` as written by ``dask scheduler --scheduler-file`` and dask-jobqueue). Every
worker runs one block at a time (one task slot) and gives the Rust search the cores of
its share of the machine (:func:`host_slots`), so two workers on two cores never run
four search threads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hexaccess._extras import require
from hexaccess.errors import InputError

__all__ = ["SchedulerSpec", "connect", "host_slots", "parse_scheduler"]

_LOCAL = re.compile(r"^local(?::(?P<n>[^:]*))?$")


@dataclass(frozen=True)
class SchedulerSpec:
    """A parsed ``--scheduler``: a local cluster of ``workers`` processes (``None``: one
    per core) or the ``address`` of a running scheduler (or a scheduler file)."""

    address: str | None = None
    workers: int | None = None

    @property
    def local(self) -> bool:
        """Whether a cluster is started here (``local[:N]``)."""
        return self.address is None


def parse_scheduler(text: str) -> SchedulerSpec:
    """``local``, ``local:N`` (N >= 1 workers) or a scheduler address / file; anything
    else is an :class:`~hexaccess.errors.InputError` saying what to write."""
    value = str(text).strip()
    match = _LOCAL.match(value)
    if match:
        n = match.group("n")
        if n is None:
            return SchedulerSpec()
        if not n.isdigit() or int(n) < 1:
            raise InputError(
                f"--scheduler {text!r}: give local, local:N with N >= 1 workers (e.g. local:2), "
                "or the address of a Dask scheduler (tcp://host:8786)"
            )
        return SchedulerSpec(workers=int(n))
    if not value or any(c.isspace() for c in value):
        raise InputError(
            f"--scheduler {text!r}: give local, local:N, or the address of a Dask scheduler "
            "(tcp://host:8786, host:8786, or a scheduler file .json)"
        )
    return SchedulerSpec(address=value)


def _local_cluster(spec: SchedulerSpec, quiet: bool, memory_limit: str | None) -> Any:
    distributed = require("distributed", "dask", "--scheduler local (Dask distributed)")
    cores = os.cpu_count() or 1
    n = spec.workers or cores
    # One task slot per worker: a block's Rust search is the parallel part, and a worker
    # running two blocks at once would only double its memory.
    return distributed.LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,  # no web server (and no "port in use" warning) by default
        memory_limit=memory_limit or "auto",
        silence_logs=logging.ERROR if quiet else logging.WARNING,
    )


@contextlib.contextmanager
def connect(
    scheduler: str | SchedulerSpec, *, quiet: bool = False, memory_limit: str | None = None
) -> Iterator[Any]:
    """A ``distributed.Client`` for ``scheduler`` (closed, with a local cluster shut
    down, on leaving the block). ``memory_limit`` (e.g. ``"2GB"``) applies to the workers
    of a local cluster; a remote cluster's workers keep their own."""
    spec = scheduler if isinstance(scheduler, SchedulerSpec) else parse_scheduler(scheduler)
    distributed = require("distributed", "dask", "--scheduler (Dask distributed)")
    if quiet:
        logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = _local_cluster(spec, quiet, memory_limit) if spec.local else None
    try:
        if cluster is not None:
            client = distributed.Client(cluster)
        elif spec.address.endswith(".json"):
            client = distributed.Client(scheduler_file=spec.address, timeout="30s")
        else:
            client = distributed.Client(spec.address, timeout="30s")
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise InputError(
            f"--scheduler {spec.address}: cannot reach the Dask scheduler ({exc}); start one "
            "(dask scheduler, dask-jobqueue, dask-kubernetes) and give its address, or use "
            "--scheduler local"
        ) from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def host_slots(client: Any) -> dict[str, int]:
    """Task slots (worker threads) per worker host: a task divides its host's cores by
    this to size its Rust search (:func:`hexaccess.distributed.matrix.block_threads`)."""
    info = client.scheduler_info()["workers"]
    slots: dict[str, int] = {}
    for address, worker in info.items():
        host = worker.get("host") or address.rsplit(":", 1)[0]
        slots[host] = slots.get(host, 0) + int(worker.get("nthreads", 1))
    return slots
