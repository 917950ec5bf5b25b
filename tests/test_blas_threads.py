"""One BLAS thread per process outside the batch too: ``import analysis`` and the Jupyter kernel spec.

Each check runs in a fresh interpreter whose environment has none of the thread variables the
Makefile exports, as in JupyterLab or a plain ``papermill`` call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "ANALYSIS_BLAS_THREADS")

PROBE = """
import json, os, sys, warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    for name in sys.argv[1].split(","):
        __import__(name)
import threadpoolctl
print(json.dumps({
    "blas": [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"],
    "env": {v: os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
    "warnings": [str(w.message) for w in caught],
}))
"""


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _probe(modules: str, **extra: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, modules], env=_clean_env(**extra), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


multi_core = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: BLAS runs one thread anyway")


@multi_core
def test_without_analysis_blas_uses_several_threads():
    """The baseline the other tests change: numpy alone starts one BLAS thread per core."""
    probe = _probe("numpy")
    assert probe["blas"] and all(n > 1 for n in probe["blas"]), probe


@multi_core
def test_numpy_first_then_analysis_gives_one_thread():
    probe = _probe("numpy,analysis")
    assert probe["blas"] == [1] * len(probe["blas"]) and probe["blas"], probe
    assert probe["env"] == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@multi_core
def test_analysis_first_then_numpy_gives_one_thread():
    probe = _probe("analysis,numpy")
    assert probe["blas"] == [1] * len(probe["blas"]) and probe["blas"], probe


@multi_core
def test_analysis_blas_threads_allows_more():
    probe = _probe("numpy,analysis", ANALYSIS_BLAS_THREADS="2")
    assert probe["blas"] == [2] * len(probe["blas"]) and probe["blas"], probe
    assert probe["env"]["OPENBLAS_NUM_THREADS"] == "2"


def test_variables_already_set_are_kept_for_children():
    probe = _probe("analysis", OPENBLAS_NUM_THREADS="3")
    assert probe["env"] == {"OPENBLAS_NUM_THREADS": "3", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@multi_core
def test_a_bad_setting_warns_and_uses_one_thread():
    probe = _probe("numpy,analysis", ANALYSIS_BLAS_THREADS="many")
    assert probe["blas"] == [1] * len(probe["blas"]), probe
    assert any("ANALYSIS_BLAS_THREADS='many'" in w and "正整数" in w for w in probe["warnings"]), probe


def test_import_analysis_does_not_load_pandas():
    code = "import sys, analysis; print('pandas' in sys.modules, 'numpy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], env=_clean_env(), capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "False"], result.stdout + result.stderr


def _install_kernel(prefix: Path) -> dict:
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "install_kernel.py"), "--prefix", str(prefix)],
        env=_clean_env(),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return json.loads((prefix / "share" / "jupyter" / "kernels" / "python3" / "kernel.json").read_text())


def test_kernel_spec_pins_one_blas_thread(tmp_path):
    spec = _install_kernel(tmp_path)
    assert spec["env"] == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    assert spec["display_name"] == "Python 3 (analysis)"
    assert spec["argv"][0] == sys.executable


def test_make_kernel_uses_the_same_install_code():
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    # -o: take the venv as built, so a dry run never plans a reinstall
    result = subprocess.run(
        ["make", "-n", "-o", ".venv/bin/.installed", "-C", str(ROOT), "kernel"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "tools/install_kernel.py --prefix .venv" in result.stdout, result.stdout


@multi_core
@pytest.mark.slow
def test_a_kernel_started_from_the_spec_runs_one_blas_thread(tmp_path):
    """What JupyterLab and papermill do: start the kernel from its spec, then run numpy in it."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    _install_kernel(tmp_path)
    ksm = KernelSpecManager(kernel_dirs=[str(tmp_path / "share" / "jupyter" / "kernels")])
    ksm.ensure_native_kernel = False
    # the kernel inherits this process's environment, minus the variables, plus the spec's env
    saved = {v: os.environ.pop(v) for v in THREAD_VARIABLES if v in os.environ}
    try:
        km = KernelManager(kernel_name="python3", kernel_spec_manager=ksm)
        km.start_kernel()
    finally:
        os.environ.update(saved)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        lines: list[str] = []
        reply = kc.execute_interactive(
            "import numpy, threadpoolctl\n"
            "print(*[i['num_threads'] for i in threadpoolctl.threadpool_info() if i['user_api'] == 'blas'])",
            timeout=60,
            output_hook=lambda msg: lines.append(msg["content"].get("text", "")),
        )
        assert reply["content"]["status"] == "ok", reply
        counts = "".join(lines).split()
        assert counts and set(counts) == {"1"}, lines
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_nbformat_import_skips_the_iri_parser_and_still_validates():
    """import analysis marks rfc3987_syntax absent (2.5 s of CPU per process); notebooks still validate."""
    import subprocess
    import sys

    code = (
        "import sys, analysis, nbformat\n"
        "assert sys.modules['rfc3987_syntax'] is None\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = 1')])\n"
        "nbformat.validate(nb)\n"
        "try:\n"
        "    nbformat.validate({'cells': 'not a list'})\n"
        "except nbformat.ValidationError:\n"
        "    print('refused')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "refused"
