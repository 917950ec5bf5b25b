"""Rules (考核规则): one year's notice as a validated policy (``policy``, from
``params/policy-YYYY.yaml``), every indicator and verdict for every institution and month-end
(``indicators``), and the supervisory score card (``scoring``, from ``params/scoring-YYYY.yaml``).
"""
