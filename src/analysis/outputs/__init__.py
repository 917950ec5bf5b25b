"""Outputs (输出): the registry of output formats (``registry``), the HTML export with the project's
nbconvert template (``html``, ``templates/``), the PDF (``pdf``, WeasyPrint), the JSON summary
(``summary_json``), the published site (``site``) and the indicator workbook (``excel``).
"""
