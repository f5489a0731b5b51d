"""What static and time-varying covariate models share: covariate names, the effects table and
the serialised coefficients (one home, so both faces report and read them alike)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from scipy import stats

from clientmodel._validation import (
    check_mapping,
    check_number,
    check_sequence,
    check_text,
    key_path,
)
from clientmodel.errors import ArgumentError
from clientmodel.ltv.report import FitReport

#: The two processes a covariate can act on.
PROCESSES = ("purchase", "dropout")
Coefficients = Mapping[str, Mapping[str, float]]


def covariate_names(value: Any, field: str) -> tuple[str, ...]:
    """``value`` as a tuple of distinct covariate names, errors naming ``field``."""
    items = check_sequence(value, field)
    out = tuple(check_text(v, key_path(field, i)) for i, v in enumerate(items))
    dup = sorted({n for n in out if out.count(n) > 1})
    if dup:
        raise ArgumentError(
            f"{field} names {dup[0]!r} twice; name each covariate once", field=field
        )
    return out


def effects_table(
    coefficients: Coefficients,
    names: Mapping[str, tuple[str, ...]],
    report: FitReport | None,
    key: Callable[[str, str], str],
) -> dict[str, list[Any]]:
    """Process, covariate, estimate, SE, z, two-sided p and interval per effect (``None`` where
    the report has none); ``key(process, name)`` is the effect's name in the report."""
    out: dict[str, list[Any]] = {
        k: [] for k in ("process", "covariate", "estimate", "se", "z", "p", "ci_low", "ci_high")
    }
    for process in PROCESSES:
        for n in names[process]:
            est = float(coefficients[process][n])
            se = None if report is None else report.standard_errors.get(key(process, n))
            ci = None if report is None else report.confidence_intervals.get(key(process, n))
            z = None if se is None else est / se
            out["process"].append(process)
            out["covariate"].append(n)
            out["estimate"].append(est)
            out["se"].append(se)
            out["z"].append(z)
            out["p"].append(None if z is None else float(2.0 * stats.norm.sf(abs(z))))
            out["ci_low"].append(None if ci is None else ci[0])
            out["ci_high"].append(None if ci is None else ci[1])
    return out


def coefficients_form(coefficients: Coefficients) -> dict[str, dict[str, float]]:
    """The coefficients as JSON-safe nested dicts."""
    return {k: {n: float(v) for n, v in m.items()} for k, m in coefficients.items()}


def read_coefficients(value: Any, path: str) -> dict[str, dict[str, float]]:
    """The coefficients of a serialised form, errors naming the key path."""
    coefs = check_mapping(value, path, required=PROCESSES, optional=())
    return {
        p: {
            str(n): check_number(v, key_path(path, p, str(n)))
            for n, v in check_mapping(coefs[p], key_path(path, p)).items()
        }
        for p in PROCESSES
    }
