"""Generic survival statistics, each checked against R's reference implementation.

This layer knows nothing of Chen et al. (2024) or of the book: it imports
neither :mod:`dmnpc.paper` nor :mod:`dmnpc.book` (``tests/test_layers.py``
enforces it). Modules are named by topic:

``km``              Kaplan-Meier, survival at fixed times, medians, log-rank, censoring KM, follow-up
``cox``             Cox proportional hazards: one Efron engine (single and batched fits), the
                    fitted-model object :class:`~dmnpc.stats.cox.CoxFit`, case weights with the robust
                    (sandwich) variance, univariable screen, PH test
``discrimination``  Harrell's and Uno's C, IPCW time-dependent AUC and ROC
``roc``             ROC curves and Youden-optimal cut points (binary and time-dependent), their bootstrap
``calibration``     grouped (KM) and smooth calibration at a horizon, with bootstrap correction
``utility``         at a horizon: decision-curve net benefit (KM), IPCW Brier score and IPA, O/E ratio
``samplesize``      minimum sample size for a survival model (Riley et al.), Cox-Snell R2, heuristic shrinkage
``validation``      optimism bootstrap of a Cox model (``rms::validate``); ridge Cox fits
``pipeline``        bootstrap of a whole development procedure (searched cuts, screen, model), instability
``splines``         restricted cubic splines (``rms::rcs`` knots and basis), Cox models with spline terms,
                    LR test, AIC, C and partial effects (``rms::cph``, ``Predict``)
``penalised``       ridge Cox with the penalty chosen by cross-validated partial likelihood
``nomogram``        points nomogram of a Cox fit (``rms::nomogram``)
``survfit``         predicted survival of a new patient with its confidence interval (``survfit.coxph``)
``contingency``     chi-square, Yates and Fisher (Freeman-Halton) tests of a contingency table
``subgroup``        risk groups from a score, treatment effects within strata, treatment x stratum interaction
``evalue``          E-values of a risk or hazard ratio and its confidence interval (VanderWeele & Ding)
``weighting``       propensity scores (statsmodels logistic GLM, separation detected), stabilised IPW and
                    overlap weights, SMD balance table, Kish ESS, weighted HR with robust variance
``subgroup_sim``    a development procedure, the mean split and the within-group treatment HR on many data
                    sets at once (simulated replicates; engine ``_rowcox``: batched fits, per-data-set times)
``simulate``        replicate runner: SeedSequence-spawned seeds, serial / joblib / Dask, progress bar;
                    Clopper-Pearson interval of a Monte Carlo rate
``_validate``       the one input checker every module uses
``_io``             the one atomic file writer (results JSONs of the paper, the public case and the CLI)
"""
