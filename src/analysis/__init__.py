"""Nanyang small-micro enterprise evaluation workbook (南阳小微企业金融服务监测评价工作簿).

The package reads the institutions' monthly returns, checks them against the data contract,
computes every indicator and verdict of a policy year's notice, and writes the reports. One module
per concern; the layers run one way (a module imports only the layers above it in this list):

- shared names (leaf modules): ``status`` (达标 / 未达标 / 关注 / 不适用), ``columns`` (indicator
  columns and their Chinese labels), ``dataset`` (:class:`~analysis.core.dataset.Dataset`), ``periods``
  (:func:`~analysis.core.periods.parse_period`), ``errors`` (bilingual problems), ``files`` (atomic writes)
- data contract (数据规范): ``contract``, one definition of every table and column
- loading and validation: ``loading.read_tables``, ``validation.load_dataset`` (every problem at once)
- rules: ``policy.load_policies`` (params/policy-YYYY.yaml), ``indicators.compute_indicators``
  (the engine, all institutions and months at once), ``scoring.score_cards`` (监管评价)
- models: ``models.compute_models`` (rate trends, peers, year-end early warning 年末预警)
- state: ``state.load_state``, the validated data and indicators cached by content
- report content: ``report.institution_context`` (机构评价报告), ``overview.city_context`` (全市总览),
  ``modelreport``, ``charts``, ``display``, ``fonts``
- rendering: ``render`` (nbconvert HTML), ``pdf`` (WeasyPrint), ``site`` (published index), ``export``
  (indicators.xlsx)
- batch and command line: ``batch.run_batch`` (parallel papermill runs), ``cli.main`` (``analysis …``);
  ``demo.write_demo_data`` writes the fictional jurisdiction

Importing the package is cheap (no pandas here): it only pins numerical libraries to one BLAS
thread per process. Reports run many processes side by side on few cores (batch workers, their
kernels, test workers), and competing OpenBLAS threads made model fitting 17 times slower
(benchmarks/README.md); notebooks opened in JupyterLab or run by plain papermill get the same
setting from here. Set ``ANALYSIS_BLAS_THREADS`` to allow more threads in a process of your own.
"""

from __future__ import annotations

import os
import warnings

#: environment variables the BLAS and OpenMP runtimes read when they load (child processes too)
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blas_threads() -> int:
    """BLAS threads per process: ``ANALYSIS_BLAS_THREADS`` when set to a positive whole number, else 1."""
    text = os.environ.get("ANALYSIS_BLAS_THREADS", "").strip()
    if not text:
        return 1
    if text.isdigit() and int(text) > 0:
        return int(text)
    warnings.warn(
        f"ANALYSIS_BLAS_THREADS={text!r} 不是正整数，按 1 个线程运行 / "
        f"is not a positive whole number: using 1 BLAS thread",
        RuntimeWarning,
        stacklevel=2,
    )
    return 1


def limit_blas_threads() -> int:
    """Pin BLAS to :func:`blas_threads` threads: in this process, and (unless already set) in its
    children through the environment. Returns the number of threads."""
    threads = blas_threads()
    for variable in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(variable, str(threads))  # read by a BLAS that loads later, and by children
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency; the variables still apply
        return threads
    threadpool_limits(threads, user_api="blas")  # a BLAS already loaded (numpy imported first)
    return threads


# jsonschema (imported by nbformat and papermill) loads rfc3987_syntax whenever it is installed, and
# that builds a lark Earley parser at import: about 2.5 s of CPU in every batch worker and papermill
# process. Only jsonschema's "iri"/"iri-reference" format checks use it, and nbformat's schemas have
# no such format, so the package marks it absent (ANALYSIS_KEEP_RFC3987=1 keeps it).
if os.environ.get("ANALYSIS_KEEP_RFC3987") != "1":
    import sys

    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

limit_blas_threads()
