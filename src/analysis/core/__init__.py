"""Core (核心): the names every layer shares and none owns — verdict statuses (``status``), indicator
and verdict columns with labels and units (``columns``), periods and the office's time zone
(``periods``), the validated-tables type (``dataset``), the error types with their Chinese and English
texts (``errors``, ``runerrors``), the one comparison rule (``compare``), atomic files (``files``) and
the typed manifest a run writes and the site reads (``manifest``). Nothing here imports a higher layer.
"""
