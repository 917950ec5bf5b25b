"""Warm kernels (analysis.batch.engine): one kernel reused across notebooks must look fresh to each of
them; a kernel that dies or hangs is replaced and only its own notebook fails. Small notebooks
on a real kernel (slow-marked: a kernel start is seconds on a busy machine)."""

from __future__ import annotations

import nbformat
import pytest

from analysis.batch.engine import KernelTimeoutError, WarmKernel, execute_notebook

pytestmark = pytest.mark.slow
PRELUDE = ("pandas", "matplotlib.pyplot", "analysis.core.status")


def notebook(path, *cells: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("name = 'default'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))
    return str(path)


@pytest.fixture
def kernel(tmp_path):
    k = WarmKernel(tmp_path, prelude=PRELUDE)
    yield k
    k.shutdown()


SPOIL = """
leaked_institution = name
import os, sys, warnings
import matplotlib, matplotlib.pyplot as plt, pandas as pd, numpy as np
plt.figure(); plt.plot([1, 2])
matplotlib.rcParams["font.size"] = 33.0
pd.set_option("display.max_rows", 3)
np.set_printoptions(precision=2)
warnings.simplefilter("error")
os.environ["LEAKED_SETTING"] = "1"
sys.path.insert(0, "/leaked")
import analysis.core.status
analysis.core.status.STATUS_LABELS = {"met": "leaked"}
os.chdir("/")
"""

CHECK = """
import os, sys, warnings
import matplotlib, matplotlib.pyplot as plt, pandas as pd, numpy as np
problems = []
if "leaked_institution" in globals(): problems.append("variable")
if plt.get_fignums(): problems.append("figure")
if matplotlib.rcParams["font.size"] == 33.0: problems.append("rcParams")
if pd.get_option("display.max_rows") != 60: problems.append("pandas option")
if np.get_printoptions()["precision"] != 8: problems.append("numpy printoptions")
if warnings.filters and warnings.filters[0][0] == "error": problems.append("warnings")
if "LEAKED_SETTING" in os.environ: problems.append("environment")
if "/leaked" in sys.path: problems.append("sys.path")
import analysis.core.status
if analysis.core.status.STATUS_LABELS.get("met") != "达标": problems.append("module-level setting")
if os.getcwd() == "/": problems.append("cwd")
assert not problems, problems
"""


def test_nothing_survives_from_the_previous_notebook(tmp_path, kernel):
    spoil = notebook(tmp_path / "spoil.ipynb", SPOIL)
    check = notebook(tmp_path / "check.ipynb", CHECK)
    execute_notebook(spoil, tmp_path / "a.ipynb", {"name": "B017"}, tmp_path, kernel=kernel)
    execute_notebook(check, tmp_path / "b.ipynb", {"name": "B030"}, tmp_path, kernel=kernel)
    assert kernel.starts == 1  # the same kernel ran both
    # the parameters cell stays, and the counter starts again as in a fresh kernel
    out = nbformat.read(str(tmp_path / "b.ipynb"), as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in out.cells)
    assert [c.execution_count for c in out.cells if c.cell_type == "code"] == [1, 2, 3]


def test_the_check_notebook_sees_a_leak_without_the_reset(tmp_path, kernel):
    """The check above is able to fail: run both cells in one notebook (no reset in between)."""
    both = notebook(tmp_path / "both.ipynb", SPOIL, CHECK)
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError, match="variable"):
        execute_notebook(both, tmp_path / "c.ipynb", {"name": "B017"}, tmp_path, kernel=kernel)


def test_a_crashed_kernel_fails_its_notebook_alone_and_is_replaced(tmp_path, kernel):
    from nbclient.exceptions import DeadKernelError

    crash = notebook(tmp_path / "crash.ipynb", "import os\nos._exit(3)")
    fine = notebook(tmp_path / "fine.ipynb", "x = name * 2\nassert x == 'okok'")
    with pytest.raises(DeadKernelError):
        execute_notebook(crash, tmp_path / "crash.out.ipynb", {"name": "x"}, tmp_path, kernel=kernel)
    assert (tmp_path / "crash.out.ipynb").exists()  # kept for diagnosis
    execute_notebook(fine, tmp_path / "fine.out.ipynb", {"name": "ok"}, tmp_path, kernel=kernel)
    assert kernel.starts == 2


def test_a_hung_kernel_is_timed_out_killed_and_replaced(tmp_path, kernel):
    import time

    hang = notebook(tmp_path / "hang.ipynb", "import time\ntime.sleep(600)")
    fine = notebook(tmp_path / "fine.ipynb", "y = 1")
    started = time.perf_counter()
    with pytest.raises(KernelTimeoutError, match="timeout"):
        execute_notebook(hang, tmp_path / "hang.out.ipynb", {}, tmp_path, timeout=3, kernel=kernel)
    assert time.perf_counter() - started < 60
    assert (tmp_path / "hang.out.ipynb").exists()
    execute_notebook(fine, tmp_path / "fine.out.ipynb", {}, tmp_path, kernel=kernel)
    assert kernel.starts == 2


def test_a_fresh_kernel_per_notebook_still_works(tmp_path):
    fine = notebook(tmp_path / "fine.ipynb", "assert name == 'I003'")
    execute_notebook(fine, tmp_path / "out.ipynb", {"name": "I003"}, tmp_path)
    assert (tmp_path / "out.ipynb").exists()
