"""Run the reference library, lifetimes 0.11, beside clientmodel in the same benchmark run.

lifetimes needs an older numpy/pandas/scipy than clientmodel, so it lives in its own virtual
environment, made once with::

    python -m venv benchmarks/_venvs/lifetimes
    benchmarks/_venvs/lifetimes/bin/pip install "lifetimes==0.11.3" "pandas<2" "numpy<1.25" \\
        "scipy<1.11" "pyarrow<15"

(``benchmarks/_venvs/`` is git-ignored.) Each measured job runs in a fresh process for both
libraries, so peak memory (the growth of the resident set during the job) is comparable.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

LIFETIMES_PYTHON = Path(__file__).resolve().parent / "_venvs" / "lifetimes" / "bin" / "python"

# A job prints one JSON line: seconds, peak_mib (resident-set growth during the job) and extras.
_PRELUDE = """
import json, resource, sys, time
import numpy as np
data = dict(np.load(sys.argv[1], allow_pickle=False))
def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
"""


def available() -> bool:
    """Whether the lifetimes environment exists."""
    return LIFETIMES_PYTHON.exists()


def run(
    job: str, data: dict[str, np.ndarray], *, python: str | Path | None = None
) -> dict[str, Any]:
    """Run ``job`` (Python source using ``data``, ``time``, ``peak_mib``) in a fresh process.

    ``python`` defaults to this interpreter; pass :data:`LIFETIMES_PYTHON` for lifetimes.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.npz"
        np.savez(path, **data)
        done = subprocess.run(
            [str(python or sys.executable), "-c", _PRELUDE + job, str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
