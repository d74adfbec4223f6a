"""dmnpc: the helper package of the dmNPC nomogram research book.

Reproduces and appraises Chen et al., "Risk-adapted locoregional radiotherapy
strategies based on a prognostic nomogram for de novo metastatic nasopharyngeal
carcinoma patients treated with chemoimmunotherapy", Sci Rep 2024;14:3950.

Modules are named by topic (``data``, ``variables``, ``published``, ``survival``,
``cox``, ``cutoffs``, ``tables``, ``nomogram``, ``metrics``, ``calibration``,
``validation``, ``twin``, ``audit``, ``report``, ``plots``). Import them directly;
this package file imports nothing heavy.
"""

__version__ = "0.1.0"
