"""Probe public functions with bad inputs, the way a docs-only corpus would (issue 16).

Valid calls are captured by running every docstring example of the chosen modules under a
profiler hook; each captured call is then replayed with one argument replaced by a bad value
(and, for tables, one column spoiled). Anything that is not a ClientModelError is reported, and
so is a silent success on an obviously wrong value, or a NaN/inf in the output.

    python tools/probe_bad_inputs.py clientmodel.segments clientmodel.funnel ...
"""

from __future__ import annotations

import copy
import datetime as dt
import doctest
import importlib
import inspect
import math
import pkgutil
import resource
import signal
import sys
import traceback
from collections import defaultdict
from typing import Any

import numpy as np

from clientmodel.errors import ClientModelError

resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


signal.signal(signal.SIGALRM, _alarm)

BAD_SCALARS: list[tuple[str, Any]] = [
    ("None", None),
    ("str", "x"),
    ("bytes", b"x"),
    ("int5", 5),
    ("neg", -1),
    ("nan", math.nan),
    ("inf", math.inf),
    ("1e308", 1e308),
    ("negzero", -0.0),
    ("bool", True),
    ("list", []),
    ("listNone", [None]),
    ("dict", {}),
    ("dictzz", {"zz": 1}),
    ("huge", 10**20),
    ("naive", dt.datetime(2024, 1, 1)),
    ("obj", object()),
]


def submodules(name: str) -> list[Any]:
    mod = importlib.import_module(name)
    out = [mod]
    if hasattr(mod, "__path__"):
        for info in pkgutil.walk_packages(mod.__path__, name + "."):
            out.append(importlib.import_module(info.name))
    return out


def public_callables(pkgs: list[str]) -> dict[Any, tuple[str, Any]]:
    """code object -> (qualified name, callable) for public functions and public methods."""
    codes: dict[Any, tuple[str, Any]] = {}
    for pkg in pkgs:
        mod = importlib.import_module(pkg)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if inspect.isfunction(obj):
                codes[inspect.unwrap(obj).__code__] = (f"{pkg}.{name}", obj)
            elif inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    fn = (
                        member.__func__
                        if isinstance(member, (classmethod, staticmethod))
                        else member
                    )
                    if isinstance(member, property):
                        continue
                    if inspect.isfunction(fn):
                        kind = "cm" if isinstance(member, classmethod) else "fn"
                        codes[inspect.unwrap(fn).__code__] = (
                            f"{pkg}.{name}.{attr}",
                            (kind, obj, fn),
                        )
    return codes


def capture(pkgs: list[str], codes) -> dict[str, list[tuple[Any, dict[str, Any]]]]:
    calls: dict[str, list[tuple[Any, dict[str, Any]]]] = defaultdict(list)

    def hook(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            qual, target = codes[frame.f_code]
            if len(calls[qual]) < 2:
                try:
                    args = copy.deepcopy(dict(frame.f_locals))
                except Exception:
                    args = dict(frame.f_locals)
                calls[qual].append((target, args))

    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS, verbose=False)
    seen = set()
    for pkg in pkgs:
        for mod in submodules(pkg):
            if mod.__name__ in seen:
                continue
            seen.add(mod.__name__)
            for test in finder.find(mod):
                sys.setprofile(hook)
                try:
                    runner.run(test, out=lambda s: None, clear_globs=False)
                finally:
                    sys.setprofile(None)
    return calls


def has_nonfinite(value: Any, depth: int = 0) -> bool:
    if depth > 4:
        return False
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        return bool(value.size) and not bool(np.isfinite(value).all())
    if isinstance(value, dict):
        return any(has_nonfinite(v, depth + 1) for v in list(value.values())[:50])
    if isinstance(value, (list, tuple)):
        return any(has_nonfinite(v, depth + 1) for v in value[:50])
    if hasattr(value, "to_dict") and not isinstance(value, type):
        try:
            return has_nonfinite(value.to_dict(), depth + 1)
        except Exception:
            return False
    return False


def invoke(target, args):
    if isinstance(target, tuple):
        kind, cls, fn = target
        return (
            fn(**args) if kind == "fn" else fn(cls, **{k: v for k, v in args.items() if k != "cls"})
        )
    return target(**args)


def table_variants(value: Any):
    """Spoiled copies of a column mapping or a pandas frame."""
    import pandas as pd

    frame = None
    if isinstance(value, pd.DataFrame):
        frame = value
    elif (
        isinstance(value, dict)
        and value
        and all(isinstance(v, (list, tuple, np.ndarray)) for v in value.values())
    ):
        try:
            frame = pd.DataFrame(value)
        except Exception:
            return
    if frame is None or len(frame) == 0:
        return
    yield "empty", frame.iloc[0:0]
    for col in frame.columns:
        yield f"drop:{col}", frame.drop(columns=[col])
        for label, fill in (
            ("none", None),
            ("text", "x"),
            ("nan", math.nan),
            ("inf", math.inf),
            ("1e308", 1e308),
            ("neg", -5),
        ):
            f2 = frame.copy()
            col_values = f2[col].astype(object)
            col_values.iloc[0] = fill
            f2[col] = col_values
            yield f"{col}[0]={label}", f2
    try:
        import polars as pl

        yield "polars-lazy", pl.from_pandas(frame).lazy()
    except Exception:
        pass


def main(pkgs: list[str]) -> None:
    codes = public_callables(pkgs)
    calls = capture(pkgs, codes)
    missing = sorted({q for q, _ in codes.values()} - set(calls))
    print(f"# captured {len(calls)} callables; no example for {len(missing)}")
    for q in missing:
        print("#   no example:", q)
    for qual, recorded in sorted(calls.items()):
        target, args = recorded[0]
        try:
            base_nonfinite = has_nonfinite(invoke(target, copy.deepcopy(args)))
        except Exception:
            base_nonfinite = True
        for param in list(args):
            if param in ("self", "cls"):
                continue
            variants = list(BAD_SCALARS) + list(table_variants(args[param]))
            for label, bad_value in variants:
                trial = dict(args)
                trial[param] = bad_value
                try:
                    trial = copy.deepcopy(trial)
                except Exception:
                    pass
                signal.alarm(3)
                try:
                    out = invoke(target, trial)
                except ClientModelError:
                    continue
                except Timeout:
                    print(f"TIMEOUT {qual}({param}={label})")
                    continue
                except Exception as exc:
                    if type(exc).__name__ == "ValidationError" and qual.endswith("__init__"):
                        continue
                    tb = traceback.extract_tb(exc.__traceback__)[-1]
                    where = f"{tb.filename.split('clientmodel/')[-1]}:{tb.lineno}"
                    print(
                        f"LEAK {qual}({param}={label}): {type(exc).__name__}: {str(exc)[:100]} @ {where}"
                    )
                    continue
                finally:
                    signal.alarm(0)
                if has_nonfinite(out) and not base_nonfinite:
                    print(f"NONFINITE {qual}({param}={label})")
                elif label in ("None", "str", "bytes", "nan", "inf", "obj", "dictzz", "listNone"):
                    print(f"SILENT {qual}({param}={label})")


if __name__ == "__main__":
    main(sys.argv[1:])
