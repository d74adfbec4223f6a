"""Worked cases on public data: analyses that are not Chen et al.'s paper.

This layer uses :mod:`dmnpc.stats` only: it imports neither :mod:`dmnpc.paper` nor
:mod:`dmnpc.book` (``tests/test_layers.py`` enforces it), and nothing in it depends on the
cohort chosen with ``DMNPC_DATA``.

``stratos``  the STRATOS TG6 case study (McLernon et al. 2023): a Cox model of recurrence-free
             survival developed on the Rotterdam data and validated on the GBSG data
             (``data/public/``), every performance measure at 5 years beside the published value
"""
