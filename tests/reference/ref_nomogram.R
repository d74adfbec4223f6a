# Golden values for dmnpc/nomogram.py: rms::cph + rms::nomogram on survival::gbsg.
# Run from the repository root:  Rscript tests/reference/ref_nomogram.R
# Writes tests/reference/nomogram.json.
#
# Two models on gbsg (time = rfstime in days, event = status):
#   "binary":     meno + hormon + grade3 + nodes4 + size30   (all 0/1, like the paper's Fig. 3A)
#   "continuous": age + meno + hormon + grade + nodes4        (age continuous; grade numeric 1/2/3,
#                                                             i.e. a discrete numeric with 3 values)
# For each model we record
#   * the coefficients, the column means and cph's centre  sum(means * coef);
#   * from the nomogram object: the setting values and `points` of every predictor axis, the
#     scale factor sc, the Intercept (lp at 0 total points), the total-points and lp axes;
#   * the exact map total points -> survival at 365 and 730 days, obtained through the
#     nomogram's own `fun.lp.at` (so that no `approx()` inversion is involved);
#   * the default survival axes (tick values and their approx()-inverted positions);
#   * the baseline survival S0(t) = Survival(fit)(t, lp = 0): rms with method = "efron" stores
#     exp(-H) with the Efron-adjusted cumulative hazard (survfitcoxph.fit survtype 3);
#   * the Breslow (Nelson-Aalen type) baseline of the same coxph fit, survfit(ctype = 1), which
#     is what lifelines' baseline_survival_ is;
#   * predictions for a few new patients: lp (centred), survest() and the Breslow version.
suppressPackageStartupMessages({
  library(survival)
  library(rms)
  library(jsonlite)
})

d <- read.csv(file.path("tests", "data", "gbsg.csv"))
d$grade3 <- as.numeric(d$grade == 3)
d$nodes4 <- as.numeric(d$nodes >= 4)
d$size30 <- as.numeric(d$size >= 30)
assign("dd_nomogram_ref", datadist(d), envir = globalenv())
options(datadist = "dd_nomogram_ref")

times <- c(365, 730)
tp_grid <- c(0, 10, 25, 50, 75, 100, 125, 150, 175, 200)

new_patients <- data.frame(
  age    = c(21, 45, 52, 60, 80, 38),
  meno   = c(0, 0, 1, 1, 1, 0),
  hormon = c(0, 1, 0, 1, 0, 1),
  grade  = c(1, 2, 3, 2, 3, 3),
  nodes4 = c(0, 1, 1, 0, 1, 0),
  size30 = c(0, 0, 1, 1, 1, 0)
)
new_patients$grade3 <- as.numeric(new_patients$grade == 3)

one_model <- function(rhs) {
  terms <- trimws(strsplit(rhs, "\\+")[[1]])
  fml <- as.formula(paste("Surv(rfstime, status) ~", rhs))
  # cph's default eps = 1e-4 (relative change in log-likelihood) stops Newton-Raphson early:
  # on gbsg its coefficients are up to 1.5e-3 relative away from the maximum partial
  # likelihood estimate. We converge fully (eps = 1e-10) so that the references describe the
  # MLE, which a tightly converged lifelines fit reproduces; the default-eps coefficients are
  # kept under `coef_cph_default_eps` for the record.
  fit <- cph(fml, data = d, x = TRUE, y = TRUE, surv = TRUE, eps = 1e-10, tol = 1e-11,
             iter.max = 100)
  fit_default <- cph(fml, data = d, x = TRUE, y = TRUE, surv = TRUE)
  stopifnot(fit$method == "efron")
  cfit <- coxph(fml, data = d, ties = "efron", control = coxph.control(eps = 1e-10, iter.max = 100))
  surv_fun <- Survival(fit)

  info0 <- attr(nomogram(fit), "info")
  sc <- info0$sc
  Intercept <- info0$Intercept
  lp_grid <- Intercept + tp_grid / sc
  funs <- list(function(lp) surv_fun(365, lp), function(lp) surv_fun(730, lp))
  nom_exact <- nomogram(fit, fun = funs, fun.lp.at = list(lp_grid, lp_grid),
                        funlabel = c("S365", "S730"))
  nom_default <- nomogram(fit, fun = funs, funlabel = c("S365", "S730"))

  pts <- list()
  for (tm in terms) {
    ax <- nom_exact[[tm]]
    pts[[tm]] <- list(values = as.numeric(ax[[tm]]), points = as.numeric(ax$points),
                      xbeta = as.numeric(ax$Xbeta))
  }
  fun_exact <- list()
  fun_default <- list()
  for (k in seq_along(times)) {
    lab <- c("S365", "S730")[k]
    fun_exact[[as.character(times[k])]] <- list(
      lp = lp_grid, total_points = as.numeric(nom_exact[[lab]]$x),
      survival = as.numeric(nom_exact[[lab]]$x.real))
    fun_default[[as.character(times[k])]] <- list(
      survival = as.numeric(nom_default[[lab]]$x.real),
      total_points = as.numeric(nom_default[[lab]]$x))
  }

  # Baselines at the column means (lp = 0 in cph's centring).
  s0_efron <- as.numeric(surv_fun(times, 0))
  mean_row <- as.data.frame(as.list(setNames(as.numeric(fit$means), terms)))
  sb <- survfit(cfit, newdata = mean_row, ctype = 1)
  s0_breslow <- as.numeric(summary(sb, times = times)$surv)
  se <- survfit(cfit, newdata = mean_row)        # default for ties = "efron": ctype 2
  s0_efron_survival <- as.numeric(summary(se, times = times)$surv)

  nd <- new_patients[, terms, drop = FALSE]
  lp_new <- as.numeric(predict(fit, newdata = nd, type = "lp"))
  se_new <- survest(fit, newdata = nd, times = times, conf.int = 0)$surv
  surv_lp <- surv_fun(times, lp_new)
  sbn <- survfit(cfit, newdata = nd, ctype = 1)
  br_new <- t(summary(sbn, times = times)$surv)   # patients x times

  list(
    formula = rhs, terms = terms, n = nrow(d), events = sum(d$status),
    coef = as.list(coef(fit)), se = as.list(sqrt(diag(vcov(fit)))),
    coxph_coef = as.list(coef(cfit)),
    coef_cph_default_eps = as.list(coef(fit_default)),
    means = as.list(fit$means), center = fit$center,
    nomogram = list(
      sc = sc, intercept = Intercept, points = pts,
      total_points_axis = as.numeric(nom_exact$total.points$x),
      lp_axis = list(x = as.numeric(nom_exact$lp$x), lp = as.numeric(nom_exact$lp$x.real)),
      fun_exact = fun_exact, fun_default = fun_default),
    baseline = list(times = times, efron_rms = s0_efron, efron_survfit = s0_efron_survival,
                    breslow = s0_breslow),
    new_patients = list(
      data = nd, lp = lp_new,
      survest = unname(as.matrix(se_new)),
      survival_lp = unname(as.matrix(surv_lp)),
      breslow = unname(as.matrix(br_new)))
  )
}

# R's pretty(), which places the nomogram's axis ticks, on assorted ranges.
pretty_cases <- list(c(21, 80, 10), c(-0.93, 1.12, 10), c(0, 227.3, 10), c(0, 100, 10),
                     c(0.7717, 0.9713, 10), c(0.4490, 0.8974, 10), c(0.0012, 0.0049, 5),
                     c(-3.2, -0.01, 10), c(1, 1, 10), c(0, 0, 5), c(3, 120, 10), c(0.5, 0.52, 10),
                     c(-1e-3, 2e-3, 4), c(17, 1234567, 10), c(0, 283.38, 10), c(0.93, 0.982, 10))
pretty_ref <- lapply(pretty_cases, function(z) list(lo = z[1], hi = z[2], n = z[3],
                                                    value = pretty(c(z[1], z[2]), n = z[3])))

out <- list(
  pretty = pretty_ref,
  versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                  rms = as.character(packageVersion("rms"))),
  times = times,
  total_points_grid = tp_grid,
  binary = one_model("meno + hormon + grade3 + nodes4 + size30"),
  continuous = one_model("age + meno + hormon + grade + nodes4")
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, matrix = "rowmajor"),
           file.path("tests", "reference", "nomogram.json"))
options(datadist = NULL)
