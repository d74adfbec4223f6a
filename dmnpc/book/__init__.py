"""Book tooling: what the chapters call to show the paper's results.

Nothing here computes statistics. ``chapter`` loads the cohort and formats numbers and
tables for a page; ``plots`` draws every figure with one palette; ``flow`` the patient-flow
diagram; ``buildtools`` keeps the execution cache honest; ``external`` lays out the tables and
sentences of the external-validation case on public data (:mod:`dmnpc.cases.stratos`).
"""
