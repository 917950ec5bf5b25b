"""Report content (报告内容): what the notebooks show — a bank's or insurer's report
(``institution``), the city overview (``overview``), the model readings (``models``), charts
(``charts``, matplotlib without pyplot; ``fonts`` finds a CJK font), HTML tables and number formats
(``display``), and the analyst's questions between runs (``explore``). Notebooks import only these:
``from analysis.content import charts, institution, models``.
"""
