"""Peak resident memory of the running process, for the benchmarks' subprocess probes.

Benchmarks measure memory in a fresh ``python -c`` child, so that the pytest process's
own allocations (and earlier benchmarks) do not count. The child prepends
:data:`PRELUDE` to its code to import :func:`peak_rss_kib` / :func:`peak_rss_mb` from here.

On Linux the peak is ``VmHWM`` of ``/proc/self/status``: it starts afresh at ``exec``,
whereas ``ru_maxrss`` (self or children) survives fork + exec and so would start at the
RSS of the forking pytest process, hundreds of MB after the grid benchmarks. Elsewhere
``ru_maxrss`` is the fallback (KiB on Linux; bytes on macOS).
"""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_kib() -> int:
    """Peak resident set of this process in KiB (``VmHWM``; ``ru_maxrss`` fallback)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_rss_mb() -> float:
    """Peak resident set of this process in MB (MiB)."""
    return peak_rss_kib() / 1024


#: First lines of a ``python -c`` child script: makes ``peak_rss_kib`` and
#: ``peak_rss_mb`` importable there (this directory is not a package).
PRELUDE = (
    "import sys\n"
    f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
    "from _rss import peak_rss_kib, peak_rss_mb\n"
)
