"""Demo data (示例数据): generators used by the command line, the tests and the benchmarks, never by
the engines — the fictional jurisdiction (``jurisdiction``), its S71 exports (``s71``), its loan-level
tables (``loans``) and a synthetic province (``province``).
"""
