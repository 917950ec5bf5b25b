"""Verdict statuses (评价结论) and their Chinese labels: a leaf module every layer may import.

``met`` 达标, ``not_met`` 未达标, ``watch`` 关注, ``n/a`` 不适用.
"""

from __future__ import annotations

MET, NOT_MET, WATCH, NA = "met", "not_met", "watch", "n/a"
STATUS_LABELS = {MET: "达标", NOT_MET: "未达标", WATCH: "关注", NA: "不适用"}

__all__ = ["MET", "NOT_MET", "WATCH", "NA", "STATUS_LABELS"]
