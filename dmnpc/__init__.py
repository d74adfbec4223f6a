"""dmnpc: the helper package of the dmNPC nomogram research book.

Reproduces and appraises Chen et al., "Risk-adapted locoregional radiotherapy
strategies based on a prognostic nomogram for de novo metastatic nasopharyngeal
carcinoma patients treated with chemoimmunotherapy", Sci Rep 2024;14:3950.

Three layers, each importing only the ones before it:

``dmnpc.stats``
    Generic survival statistics (``km``, ``cox``, ``nomogram``, ``discrimination``,
    ``calibration``, ``validation``, ``roc``, ``subgroup``), checked against R. Knows
    nothing of the paper.
``dmnpc.paper``
    The paper: the data ``contract``, its ``variables`` (codings, codes, labels and
    constants), the ``published`` numbers, the ``analysis`` step by step, the results
    JSON (``report``), ``tables``, the ``audit`` of the printed tables, the ``fidelity``
    report and the synthetic ``twin``.
``dmnpc.book``
    What the chapters call: ``chapter`` (set-up, banner, formatting), ``plots`` (every
    figure, one palette), ``buildtools`` (the execution cache).

``python -m dmnpc report | fidelity | twin | prepare`` is the command line. Import the
modules directly; this package file imports nothing heavy.
"""

__version__ = "0.1.0"
