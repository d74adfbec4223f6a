"""Everything specific to Chen et al., Sci Rep 2024;14:3950.

This layer uses :mod:`dmnpc.stats` and never imports :mod:`dmnpc.book`
(``tests/test_layers.py`` enforces it):

``contract``   the cohort data contract (schema, reader, validator)
``variables``  the paper's groupings, model terms, cut points, horizons, seeds and display labels
``published``  the numbers the paper prints (``published.yaml``) and their tolerances
``analysis``   the paper's pipeline on a cohort, returning one :class:`~dmnpc.paper.analysis.PaperResults`
``report``     the public results JSON built from that object
``tables``     Tables 1 and 2 (tableone)
``audit``      internal consistency of the published tables
``fidelity``   published numbers beside a cohort's
``twin``       the synthetic twin cohort
``simulation`` subgroup roulette: how often the paper's LRRT-by-risk pattern appears when LRRT's HR is the same for all
"""
