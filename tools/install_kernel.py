"""Register the project's Jupyter kernel ("python3", shown as "Python 3 (analysis)") under a prefix.

``make kernel`` runs it with ``--prefix .venv``. The kernel spec's ``env`` pins BLAS to one thread
per process, so notebooks opened in JupyterLab or run by plain papermill fit their models as fast
as the batch does (competing OpenBLAS threads made fitting 17 times slower on 2 cores; see
benchmarks/README.md). ``import analysis`` sets the same limit; the kernel spec also covers a
notebook that loads numpy before it.

    python tools/install_kernel.py --prefix .venv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

KERNEL_NAME = "python3"
DISPLAY_NAME = "Python 3 (analysis)"
#: one BLAS / OpenMP thread per kernel process
KERNEL_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def install_kernel(prefix: Path | str) -> Path:
    """Write the kernel spec under ``prefix``/share/jupyter/kernels/python3; returns its kernel.json."""
    from ipykernel.kernelspec import install

    directory = Path(
        install(kernel_name=KERNEL_NAME, display_name=DISPLAY_NAME, prefix=str(prefix), env=dict(KERNEL_ENV))
    )
    spec_file = directory / "kernel.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    if spec.get("env") != KERNEL_ENV:  # older ipykernel versions ignore ``env``: write it ourselves
        spec["env"] = dict(KERNEL_ENV)
        spec_file.write_text(json.dumps(spec, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return spec_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default=sys.prefix, help="install prefix (default: this Python's, e.g. .venv)")
    args = parser.parse_args(argv)
    install_kernel(args.prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
