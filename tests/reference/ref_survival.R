# Reference values for dmnpc.stats.km: Kaplan-Meier (log CI), survival at times,
# medians with CI (print.survfit rule), log-rank (survdiff), reverse-KM follow-up.
# Data: survival::gbsg (exported to tests/data/gbsg.csv), rfstime in days, status 0/1.
# Run from the repository root:  Rscript tests/reference/ref_survival.R
suppressPackageStartupMessages({library(survival); library(jsonlite)})
gbsg <- read.csv(file.path("tests", "data", "gbsg.csv"))
times <- c(365, 730, 1825)

km_table <- function(f) {
  # std.err of survfit is the SE of the cumulative hazard (log S scale)
  data.frame(time = f$time, n_risk = f$n.risk, n_event = f$n.event, n_censor = f$n.censor,
             surv = f$surv, std_err_log = f$std.err, lower = f$lower, upper = f$upper)
}
med <- function(f) {
  tb <- summary(f)$table
  if (is.null(dim(tb))) tb <- t(as.matrix(tb))
  data.frame(strata = if (is.null(rownames(tb))) "all" else rownames(tb),
             median = unname(tb[, "median"]), lower = unname(tb[, "0.95LCL"]),
             upper = unname(tb[, "0.95UCL"]))
}
at <- function(f, t) {
  s <- summary(f, times = t, extend = TRUE)
  data.frame(strata = if (is.null(s$strata)) "all" else as.character(s$strata),
             time = s$time, n_risk = s$n.risk, surv = s$surv, std_err = s$std.err,
             lower = s$lower, upper = s$upper)
}
sdiff <- function(fml, data) {
  d <- survdiff(fml, data = data)
  df <- sum(d$exp > 0) - 1
  list(chisq = d$chisq, df = df, p = pchisq(d$chisq, df, lower.tail = FALSE),
       groups = sub(".*=", "", names(d$n)), n = as.numeric(d$n), observed = as.numeric(d$obs),
       expected = as.numeric(d$exp))
}

fit_all <- survfit(Surv(rfstime, status) ~ 1, data = gbsg)
fit_h0 <- survfit(Surv(rfstime, status) ~ 1, data = subset(gbsg, hormon == 0))
fit_h1 <- survfit(Surv(rfstime, status) ~ 1, data = subset(gbsg, hormon == 1))
fit_by <- survfit(Surv(rfstime, status) ~ hormon, data = gbsg)
# Small hand-checkable cases for the median rules
tiny1 <- data.frame(time = 1:6, status = rep(1, 6))                   # S hits 0.5 exactly at t=3 -> median (3+4)/2
tiny2 <- data.frame(time = c(1, 2, 2, 3, 5, 8, 9), status = c(1, 1, 0, 1, 0, 1, 0))
tiny3 <- data.frame(time = c(2, 4, 4, 6), status = c(0, 0, 0, 0))    # all censored -> NA
f1 <- survfit(Surv(time, status) ~ 1, data = tiny1)
f2 <- survfit(Surv(time, status) ~ 1, data = tiny2)
f3 <- survfit(Surv(time, status) ~ 1, data = tiny3)

rev_all <- survfit(Surv(rfstime, 1 - status) ~ 1, data = gbsg)

out <- list(
  survival_version = as.character(packageVersion("survival")),
  km_all = km_table(fit_all), km_h0 = km_table(fit_h0), km_h1 = km_table(fit_h1),
  at_all = at(fit_all, times), at_by = at(fit_by, times),
  median_all = med(fit_all), median_by = med(fit_by),
  tiny1_km = km_table(f1), tiny1_median = med(f1), tiny2_km = km_table(f2), tiny2_median = med(f2),
  tiny3_median = med(f3),
  logrank_hormon = sdiff(Surv(rfstime, status) ~ hormon, gbsg),
  logrank_grade = sdiff(Surv(rfstime, status) ~ grade, gbsg),
  followup = list(median_observed = median(gbsg$rfstime), min = min(gbsg$rfstime),
                  max = max(gbsg$rfstime), reverse_km = med(rev_all))
)
write_json(out, file.path("tests", "reference", "survival.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
