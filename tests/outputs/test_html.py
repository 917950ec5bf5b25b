"""HTML export: one nbconvert exporter serves a whole batch worker, so a report must never carry
anything of the notebook converted before it."""

from __future__ import annotations

import nbformat

from analysis.outputs.html import notebook_to_html


def _notebook(text: str, tagged: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    shown = nbformat.v4.new_code_cell("x")
    shown.outputs = [nbformat.v4.new_output("display_data", data={"text/html": f"<p>{text}</p>"})]
    hidden = nbformat.v4.new_code_cell("y", metadata={"tags": ["remove_cell"]})
    hidden.outputs = [nbformat.v4.new_output("display_data", data={"text/html": f"<p>{tagged}</p>"})]
    nb.cells = [shown, hidden]
    return nb


def test_consecutive_conversions_do_not_mix():
    a = _notebook("甲银行指标", "甲-隐藏")
    first = notebook_to_html(a, title="甲银行", footer="页脚甲")
    second = notebook_to_html(_notebook("乙银行指标", "乙-隐藏"), title="乙银行", footer="页脚乙")
    again = notebook_to_html(a, title="甲银行", footer="页脚甲")
    assert first == again
    assert "乙银行指标" in second and "乙银行" in second and "页脚乙" in second
    for leftover in ("甲银行指标", "甲银行", "页脚甲"):
        assert leftover not in second
    assert "甲-隐藏" not in first and "乙-隐藏" not in second  # tagged cells removed every time
