"""The demo's S71 returns as a reporting mart writes them (示例S71全表): every cell of the form version.

:func:`full_returns` expands the cells the mapping reads (``6.A5`` …, from
:func:`analysis.inputs.s71.s71_cells`) into every cell of the version — rows 1, 1.1–1.5, 2, 3, 3.1–3.3.1,
4, 6.1–6.3 (and 1.a/1.b, 6.4.x, 7, 7.1 in a 2025 form), every band, band-less ≤3000万 cells — so
that the form's totals give back the mapped cells **exactly** (integer 分 of 万元): row 6 = rows
1 + 3, row 3 A–C = 3.1 + 3.2, band 0 = bands 1–3, and every part ≤ its whole. Shares are fixed
fractions (the demo's own, not a bank's); a mart writes no row-6 or row-3 A–C cell, a platform
export writes them too (:func:`total_cells`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.inputs.s71 import FormVersion
from analysis.inputs.s71.form import parse_item

#: sub-rows and other rows: (parent row, share of the parent's same cell); keyed by row or (row, year)
PARENTS: dict[object, tuple[str, float]] = {
    "1.1": ("1", 0.30),
    "1.2": ("1", 0.10),
    "1.3": ("1", 0.02),
    ("1.4", 2018): ("1.1", 0.10),  # 农村集体经济组织, within 涉农
    ("1.4", 2025): ("1", 0.20),  # 中长期
    "1.5": ("1.1", 0.10),
    "1.a": ("1", 0.60),
    "1.b": ("1", 0.30),
    "2": ("1", 0.02),
    "3.1": ("3", 0.70),  # D–F without a band
    "3.2": ("3", 0.25),
    "3.3": ("3", 0.05),
    "3.3.1": ("3.3", 0.10),
    "4": ("1", 0.05),
    "6.1": ("6", 0.25),
    "6.2": ("6", 0.30),
    "6.3": ("6", 0.05),
    "7": ("1", 0.03),
    "7.1": ("7", 0.20),
}
#: the 6.4.x overdue rows: a small share of row 6 each
OVERDUE_SHARE = 0.002
#: a band-4 (1000–3000万) borrower's typical balance, 万元 — sets B4/E4 from A4/D4
BAND4_AVERAGE_WAN = 1500


def _split(total: np.ndarray, shares: tuple[float, ...]) -> list[np.ndarray]:
    """Integer parts of ``total`` by ``shares``, the last taking the rest: they add up exactly."""
    parts = [np.floor(total * s).astype(np.int64) for s in shares]
    return [*parts, total - sum(parts)]


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(len(a)), where=b > 0)


class _Return:
    """Cell values of one version for many institution-months, in 分 of 万元 (amounts) and 户."""

    def __init__(self, form: FormVersion, values: dict[str, np.ndarray]):
        self.form = form
        self.vals = dict(values)

    def get(self, code: str) -> np.ndarray:
        """A written cell, or a total computed from its parts by the form's own formulas."""
        if code in self.vals:
            return self.vals[code]
        formulas = self.form.form.formulas_of(code)
        if not formulas:
            raise KeyError(code)
        return sum((self.get(p) for p in formulas[0].parts), np.zeros_like(next(iter(self.vals.values()))))


def _base(form: FormVersion, mapped: pd.DataFrame) -> _Return:
    """Rows 1, 3, 3.1, 3.2 in every band from the mapped cells (6.*, 3.1.A5, 3.1.B5)."""

    def m(code: str, kind: str = "amount") -> np.ndarray:
        v = mapped[code].to_numpy(dtype=float)
        return np.round(v * 100).astype(np.int64) if kind == "amount" else np.round(v).astype(np.int64)

    a5, a0, a4, c5, d5, f5 = (m(c) for c in ("6.A5", "6.A0", "6.A4", "6.C5", "6.D5", "6.F5"))
    b5, e5 = m("6.B5", "count"), m("6.E5", "count")
    ia, ib = m("3.1.A5"), m("3.1.B5", "count")
    if (a5 < ia).any() or (b5 < ib).any() or (a0 < a5).any():
        raise ValueError("demo S71: 3.1 above row 6 or band 0 below band 5")
    v: dict[str, np.ndarray] = {}
    owner_a, v["1.A5"] = _split(a5 - ia, (0.12,))
    owner_b, v["1.B5"] = _split(b5 - ib, (0.15,))
    v["3.1.A5"], v["3.2.A5"], v["3.1.B5"], v["3.2.B5"] = ia, owner_a, ib, owner_b
    c31 = np.floor(c5 * _ratio(ia, a5)).astype(np.int64)
    c32 = np.floor(c5 * _ratio(owner_a, a5)).astype(np.int64)
    v["3.1.C5"], v["3.2.C5"], v["1.C5"] = c31, c32, c5 - c31 - c32
    indiv = _ratio(ia + owner_a, a5)
    v["3.D5"] = np.floor(d5 * indiv).astype(np.int64)
    v["1.D5"] = d5 - v["3.D5"]
    v["3.E5"] = np.floor(e5 * indiv).astype(np.int64)
    v["1.E5"] = e5 - v["3.E5"]
    v["3.F5"] = np.floor(f5 * _ratio(v["3.D5"], d5)).astype(np.int64)
    v["1.F5"] = f5 - v["3.F5"]
    # band 0 = band 5 plus bills, and only legal persons discount bills; bands 1–3 add up to band 0
    bills = a0 - a5
    for row, cols in (("1", "ABCDEF"), ("3.1", "ABC"), ("3.2", "ABC"), ("3", "DEF")):
        for col in cols:
            band0 = v[f"{row}.{col}5"] + (bills if (row, col) == ("1", "A") else 0)
            for band, part in zip("123", _split(band0, (0.5, 0.3))):
                v[f"{row}.{col}{band}"] = part
    # band 4 (1000–3000万): 6.A4 split over the rows, borrowers at a typical balance, no NPL
    per = BAND4_AVERAGE_WAN * 100
    for row, part in zip(("1", "3.1", "3.2"), _split(a4, (0.85, 0.10))):
        v[f"{row}.A4"] = part
        v[f"{row}.B4"] = -(-part // per)
        v[f"{row}.C4"] = np.zeros_like(part)
    for row, stock in (("1", v["1.A4"]), ("3", v["3.1.A4"] + v["3.2.A4"])):
        v[f"{row}.D4"] = np.floor(stock * 0.3).astype(np.int64)
        v[f"{row}.E4"] = -(-v[f"{row}.D4"] // per)
        v[f"{row}.F4"] = np.floor(v[f"{row}.D4"] * _ratio(f5, d5)).astype(np.int64)
    return _Return(form, v)


def full_returns(mapped: pd.DataFrame, versions: list[FormVersion]) -> pd.DataFrame:
    """Every written cell of each period's form version: institution_id, period, cell, year, value
    (万元 / 户), derived (False). ``mapped``: institution_id, period, cell, value (the mapped cells)."""
    out = []
    mapped = mapped.assign(version=mapped["period"].map(lambda p: _version(versions, p)))
    for version, rows in mapped.groupby("version"):
        form = next(f for f in versions if f.version == version)
        wide = rows.pivot_table(index=["institution_id", "period"], columns="cell", values="value", aggfunc="first")
        ret = _base(form, wide)
        if "6.1.A5" in wide:
            ret.vals["6.1.A5"] = np.round(wide["6.1.A5"].to_numpy() * 100).astype(np.int64)
        if "6.3.D5" in wide:
            ret.vals["6.3.D5"] = np.round(wide["6.3.D5"].to_numpy() * 100).astype(np.int64)
        written = [c for c in form.form.cells.values() if not c.derived]
        for cell in written:  # rows in the form's order: a parent comes before its sub-rows
            if cell.code in ret.vals:
                continue
            parent_row, share = PARENTS.get((cell.row, cell.year)) or PARENTS.get(cell.row) or ("6", OVERDUE_SHARE)
            parent = ret.get(f"{parent_row}.{cell.column}{cell.band}")
            ret.vals[cell.code] = np.floor(parent * share).astype(np.int64)
        for cell in written:  # band 5 never above band 0 (bands 1–3, or the written band 0)
            if cell.band != "5":
                continue
            base = f"{cell.row}.{cell.column}"
            whole = base + "0"
            if whole in form.form.cells and (whole in ret.vals or form.form.formulas_of(whole)):
                try:
                    ret.vals[cell.code] = np.minimum(ret.vals[cell.code], ret.get(whole))
                except KeyError:
                    pass
        out.append(_frame(ret, wide.index, written, form))
    return pd.concat(out, ignore_index=True)


def _frame(ret: _Return, index: pd.MultiIndex, cells, form: FormVersion) -> pd.DataFrame:
    frames = []
    for cell in cells:
        units = ret.vals[cell.code]
        frames.append(
            pd.DataFrame(
                {
                    "institution_id": index.get_level_values(0),
                    "period": index.get_level_values(1),
                    "cell": cell.code,
                    "year": cell.year,
                    "value": units / 100 if cell.kind == "amount" else units.astype(float),
                    "derived": False,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def total_cells(cells: pd.DataFrame, versions: list[FormVersion], rows: tuple[str, ...] = ("6", "3")) -> pd.DataFrame:
    """The totals of ``rows`` (row 6, row 3 A–C …) as a reporting platform computes them from ``cells``."""
    out = []
    for version, group in cells.groupby(cells["period"].map(lambda p: _version(versions, p))):
        form = next(f for f in versions if f.version == version)
        wide = group.pivot_table(index=["institution_id", "period"], columns="cell", values="value", aggfunc="first")
        kinds = {c: d.kind for c, d in form.form.cells.items()}
        units = {c: np.round(wide[c].to_numpy() * (100 if kinds[c] == "amount" else 1)).astype(np.int64) for c in wide}
        ret = _Return(form, units)
        totals = [d for d in form.form.cells.values() if d.derived and d.row in rows]
        for d in totals:
            try:
                ret.vals[d.code] = ret.get(d.code)
            except KeyError:
                continue
        out.append(_frame(ret, wide.index, [d for d in totals if d.code in ret.vals], form).assign(derived=True))
    return pd.concat(out, ignore_index=True) if out else cells.iloc[:0]


def _version(versions: list[FormVersion], period) -> int:
    from analysis.inputs.s71 import form_for

    form = form_for(versions, period)
    assert form is not None, period  # the demo writes only periods with a form version
    return form.version


def spelled(cells: pd.DataFrame, report: str = "S71_I") -> pd.Series:
    """The mart's spelling of each cell with its year (``S71_I_2..A4.2018``)."""
    from analysis.inputs.s71.form import mart_spelling

    return pd.Series(
        [mart_spelling(c, int(y), report) for c, y in zip(cells["cell"], cells["year"])], index=cells.index
    )


__all__ = ["PARENTS", "full_returns", "parse_item", "spelled", "total_cells"]
