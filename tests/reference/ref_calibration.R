# Reference values for dmnpc.stats.calibration (tests/stats/test_calibration.py).
# rms::calibrate(cph, cmethod = "KM", u = 1825, m = 150, B = 200) on survival::gbsg.
# The apparent part (groups, mean predicted, Kaplan-Meier, its std.err) is
# deterministic; the optimism-corrected part is repeated over seeds to give
# a Monte Carlo spread for the Python bootstrap.
suppressPackageStartupMessages({library(rms); library(jsonlite)})
gbsg <- read.csv(file.path("tests", "data", "gbsg.csv"))
u <- 1825
f <- cph(Surv(rfstime, status) ~ age + meno + size + grade + nodes + pgr + er + hormon,
         data = gbsg, x = TRUE, y = TRUE, surv = TRUE, time.inc = u)
runs <- list()
for (s in 1:10) {
  set.seed(s)
  cal <- suppressWarnings(calibrate(f, cmethod = "KM", u = u, m = 150, B = 200))
  runs[[s]] <- list(seed = s, mean_optimism = unname(cal[, "mean.optimism"]),
                    KM_corrected = unname(cal[, "KM.corrected"]))
}
pred <- attr(cal, "predicted")
# Smooth calibration (Austin, Harrell & van Klaveren 2020): Cox model of the
# outcome on a 3-knot restricted cubic spline of cloglog(predicted risk at u).
gbsg$risk <- 1 - pred
gbsg$cll <- log(-log(1 - gbsg$risk))
cal_fit <- cph(Surv(rfstime, status) ~ rcs(cll, 3), data = gbsg, x = TRUE, y = TRUE, surv = TRUE)
obs <- 1 - survest(cal_fit, newdata = gbsg, times = u)$surv
diffs <- abs(gbsg$risk - obs)
slope_fit <- coxph(Surv(rfstime, status) ~ cll, data = gbsg)
out <- list(
  versions = list(rms = as.character(packageVersion("rms"))),
  u = u, m = 150,
  predicted = unname(pred),
  apparent = list(mean_predicted = unname(cal[, "mean.predicted"]), KM = unname(cal[, "KM"]),
                  std_err = unname(cal[, "std.err"]), n = unname(cal[, "n"])),
  runs = runs,
  knots = attr(rcs(gbsg$cll, 3), "parms"),
  spline_coef = unname(coef(cal_fit)),
  observed = unname(obs), ICI = mean(diffs), E50 = median(diffs), E90 = unname(quantile(diffs, 0.9)),
  slope = unname(coef(slope_fit))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), file.path("tests", "reference", "calibration.json"))
