# Reference values for dmnpc.stats.discrimination (tests/stats/test_discrimination.py).
# Data: survival::gbsg (tests/data/gbsg.csv); Cox model of recurrence-free
# survival on the 8 predictors used throughout the tests.
suppressPackageStartupMessages({library(survival); library(riskRegression); library(jsonlite)})
gbsg <- read.csv(file.path("tests", "data", "gbsg.csv"))
fit <- coxph(Surv(rfstime, status) ~ age + meno + size + grade + nodes + pgr + er + hormon,
             data = gbsg, x = TRUE, y = TRUE)
lp <- unname(predict(fit, type = "lp"))
conc_fit <- concordance(fit)                       # Harrell's C, timewt = "n", IJ variance
conc_lp <- concordance(Surv(rfstime, status) ~ lp, data = cbind(gbsg, lp = lp), reverse = TRUE)
tau <- 1825
uno <- concordance(Surv(rfstime, status) ~ lp, data = cbind(gbsg, lp = lp), reverse = TRUE,
                   timewt = "n/G2", ymax = tau)
uno_all <- concordance(Surv(rfstime, status) ~ lp, data = cbind(gbsg, lp = lp), reverse = TRUE,
                       timewt = "n/G2")
# coarse marker with many ties (grade) to exercise tied risks
conc_grade <- concordance(Surv(rfstime, status) ~ grade, data = gbsg, reverse = TRUE)
# tiny hand-worked data with ties in time and risk
tiny <- data.frame(time = c(1, 2, 2, 3, 4, 4, 5, 6), status = c(1, 1, 0, 1, 1, 1, 0, 0),
                   risk = c(3, 2, 2, 2, 1, 3, 0, 1))
conc_tiny <- concordance(Surv(time, status) ~ risk, data = tiny, reverse = TRUE)
uno_tiny <- concordance(Surv(time, status) ~ risk, data = tiny, reverse = TRUE, timewt = "n/G2")
cres <- function(cc) list(c = unname(cc$concordance), var = unname(cc$var),
                          count = as.list(cc$count))
times <- c(365, 730, 1825)
sc <- Score(list(cox = fit), formula = Surv(rfstime, status) ~ 1, data = gbsg,
            times = times, metrics = "auc", plots = "roc", conf.int = FALSE, null.model = FALSE,
            cens.model = "km")
auc <- as.data.frame(sc$AUC$score)
roc <- as.data.frame(sc$ROC$plotframe)
# Score on the grade marker (heavy ties in the marker)
gr <- matrix(rep(gbsg$grade, length(times)), ncol = length(times))
sc_g <- Score(list(grade = gr), formula = Surv(rfstime, status) ~ 1, data = gbsg,
              times = times, metrics = "auc", conf.int = FALSE, null.model = FALSE, cens.model = "km")
# tiny data with an event and a censoring exactly at the horizon (t = 2): cases use
# 1/G(T-), the censored-at-horizon patient is neither case nor control
tiny_auc <- data.frame(time = c(1, 1.5, 2, 2, 3, 4), status = c(1, 0, 1, 0, 0, 1),
                       risk = c(1, 9, 5, 7, 2, 0.5))
sc_t <- Score(list(r = matrix(tiny_auc$risk, ncol = 1)), formula = Surv(time, status) ~ 1,
              data = tiny_auc, times = 2, metrics = "auc", conf.int = FALSE, null.model = FALSE,
              cens.model = "km")
out <- list(
  auc_tiny = list(times = 2, AUC = as.data.frame(sc_t$AUC$score)$AUC, data = as.list(tiny_auc)),
  versions = list(survival = as.character(packageVersion("survival")),
                  riskRegression = as.character(packageVersion("riskRegression"))),
  lp = lp, coef = as.list(coef(fit)),
  harrell_fit = cres(conc_fit), harrell_lp = cres(conc_lp), harrell_grade = cres(conc_grade),
  harrell_tiny = cres(conc_tiny), uno_tiny = cres(uno_tiny),
  tau = tau, uno_tau = cres(uno), uno_all = cres(uno_all),
  times = times, auc = list(times = auc$times, AUC = auc$AUC),
  auc_grade = list(times = as.data.frame(sc_g$AUC$score)$times, AUC = as.data.frame(sc_g$AUC$score)$AUC),
  roc = list(times = roc$times, TPR = roc$TPR, FPR = roc$FPR, risk = roc$risk)
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), file.path("tests", "reference", "metrics.json"))
