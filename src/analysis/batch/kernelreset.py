"""Runs *inside* a reused (warm) kernel: import the heavy libraries once, then put the kernel back
as a fresh one would be before every notebook (内核复用时的状态还原).

:func:`prelude` imports what every report needs and takes a snapshot of the settings a notebook
can change; :func:`restore` empties the user namespace (``%reset -f``), closes every figure and
puts back matplotlib's rcParams, pandas options, numpy error and print settings, warning filters,
environment variables, working directory, ``sys.path``, the global random states, the top-level
bindings of this package's modules, and the execution counter. Imported modules stay imported:
that is the saving.
"""

from __future__ import annotations

import os
import random
import sys
import warnings
from typing import Any

#: imported once per kernel before the first notebook: what every report imports. Not seaborn,
#: scipy or statsmodels: the reports draw with matplotlib in seaborn's theme written out
#: (``charts.SEABORN_THEME``) and read fitted models from the cache, so only a model fitted in a
#: notebook imports them (once per kernel: modules stay).
PRELUDE_MODULES = (
    "numpy",
    "pandas",
    "matplotlib",
    "matplotlib.pyplot",
    "analysis.content.institution",
    "analysis.content.overview",
    "analysis.content.charts",
    "analysis.content.models",
    "analysis.models",
    "analysis.inputs.loans",  # DuckDB: the cached state holds loan findings
)

_SNAPSHOT: dict[str, Any] = {}


def _pandas_options() -> dict[str, Any]:
    import pandas as pd

    keys = list(getattr(pd._config.config, "_registered_options", {}))
    deprecated = getattr(pd._config.config, "_deprecated_options", {})
    values = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key in keys:
            if key in deprecated:
                continue
            try:
                values[key] = pd.get_option(key)
            except Exception:  # noqa: BLE001, S112 - an option pandas lists but cannot read back
                continue
    return values


def _package_modules() -> dict[str, dict[str, Any]]:
    return {
        name: dict(vars(module))
        for name, module in list(sys.modules.items())
        if module is not None and (name == "analysis" or name.startswith("analysis."))
    }


def snapshot() -> None:
    import matplotlib
    import numpy as np

    _SNAPSHOT.update(
        rc=dict(matplotlib.rcParams),
        pandas=_pandas_options(),
        np_err=np.geterr(),
        np_print=np.get_printoptions(),
        warnings=list(warnings.filters),
        environ=dict(os.environ),
        cwd=os.getcwd(),
        path=list(sys.path),
        random=random.getstate(),
        np_random=np.random.get_state(),
        modules=_package_modules(),
    )


def prelude(modules: tuple[str, ...] = PRELUDE_MODULES) -> None:
    import importlib

    for name in modules:
        importlib.import_module(name)
    snapshot()


def _restore_modules(saved: dict[str, dict[str, Any]]) -> None:
    for name, bindings in saved.items():
        module = sys.modules.get(name)
        if module is None:
            continue
        current = vars(module)
        for key in [k for k in current if k not in bindings and not k.startswith("__")]:
            del current[key]
        for key, value in bindings.items():
            if current.get(key, bindings) is not value:
                current[key] = value


def restore() -> None:
    """Make the kernel look fresh to the next notebook (see the module docstring)."""
    import matplotlib
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("reset", "-f")
        shell.execution_count = 1
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dict.update(matplotlib.rcParams, _SNAPSHOT["rc"])
        current = _pandas_options()
        for key, value in _SNAPSHOT["pandas"].items():
            if current.get(key) != value:
                pd.set_option(key, value)
    np.seterr(**_SNAPSHOT["np_err"])
    np.set_printoptions(**_SNAPSHOT["np_print"])
    warnings.filters[:] = _SNAPSHOT["warnings"]  # type: ignore[index]
    warnings._filters_mutated()  # type: ignore[attr-defined]
    for key in [k for k in os.environ if k not in _SNAPSHOT["environ"]]:
        del os.environ[key]
    os.environ.update(_SNAPSHOT["environ"])
    os.chdir(_SNAPSHOT["cwd"])
    sys.path[:] = _SNAPSHOT["path"]
    random.setstate(_SNAPSHOT["random"])
    np.random.set_state(_SNAPSHOT["np_random"])
    _restore_modules(_SNAPSHOT["modules"])
