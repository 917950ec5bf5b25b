"""S71 intake (S71 导入): the returns banks file, read as the reporting system exports them.

Two shapes are read:

* the **cell-code long format** of banks' reporting marts: one row per cell, columns
  ``DATA_DATE, ORG_NUM, REP_NUM, ITEM_NUM, TOTAL_VALUE`` (or 数据日期/机构编码/报表编号/项目编码/数值),
  item codes ``<row>.<column><band>`` such as ``6.A5`` (``S71_I_6..A5.2018`` is accepted too);
* the **form layout**: one Excel sheet per institution and month as a person sees the form —
  title rows (机构编码, 数据日期, 单位), merged two-level headers (column letter A–F over the credit
  bands), item numbers and names down the left.

Which cell feeds which column of the monitoring table (月度监测) is stated per form version in
``params/s71/form-YYYY.yaml`` (chosen by the return's data date), never in code. The figures S71
does not carry come from the tidy monitoring table; a figure given by both must agree. Amounts are
converted once to 万元, and every figure written keeps a provenance record (file, sheet, cell or
row, item code, unit) so that a report's number can be traced to the bank's return.

Every problem is collected and raised together (:class:`~analysis.core.errors.DataValidationError`);
nothing is written when there is one.

The modules: ``form`` (the real form's cells by year and its arithmetic, ``params/s71/form.yaml``),
``versions`` (the mapping of each form version, ``params/s71/form-YYYY.yaml``, and the import
settings), ``read`` (the two shapes and detail exports, read into cells), ``check`` (each cell checked
against its version, totals derived and checked, cells turned into monthly figures), ``merge`` (the
monthly table merged with the tidy one, written with its provenance: :func:`import_s71`).
"""

from analysis.inputs.s71.check import (
    cells_to_monthly,
    check_cells,
    check_needed_cells,
)
from analysis.inputs.s71.merge import (
    ImportResult,
    import_s71,
    merge_with_tidy,
    s71_cells,
)
from analysis.inputs.s71.read import (
    CELL_COLUMNS,
    normalise_item,
    parse_period,
    read_form_sheet,
    read_long,
    read_sources,
)
from analysis.inputs.s71.versions import (
    CHECKS_FILE,
    DETAIL_FILE,
    S71_RULES,
    UNIT_TO_WAN,
    FormVersion,
    ImportSettings,
    form_for,
    load_form_versions,
    load_import_settings,
    params_root,
)

__all__ = [
    "s71_cells",
    "CELL_COLUMNS",
    "CHECKS_FILE",
    "DETAIL_FILE",
    "FormVersion",
    "ImportResult",
    "ImportSettings",
    "S71_RULES",
    "UNIT_TO_WAN",
    "cells_to_monthly",
    "check_cells",
    "check_needed_cells",
    "form_for",
    "import_s71",
    "load_form_versions",
    "load_import_settings",
    "merge_with_tidy",
    "normalise_item",
    "params_root",
    "parse_period",
    "read_form_sheet",
    "read_long",
    "read_sources",
    "s71_cells",
]
