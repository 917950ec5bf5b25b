"""Inputs (数据输入): the data contract (``contract``), the tidy tables (``loading``), S71 returns
(``s71``), loan-level supervisory data and its DuckDB queries (``loans``, ``sql/``), and validation
(``validation``), which returns a ``Dataset`` or one error listing every problem with file, row,
column and rule.
"""
