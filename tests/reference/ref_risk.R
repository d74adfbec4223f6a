# Golden values for dmnpc/risk.py: treatment hazard ratios within risk strata and the
# treatment x stratum interaction likelihood-ratio test, on survival::gbsg.
# Run from the repository root:  Rscript tests/reference/ref_risk.R
# Writes tests/reference/risk.json.
#
# Treatment: hormon (1 = hormonal therapy). As in the paper ("without LRRT vs LRRT") the hazard
# ratio is WITHOUT vs WITH treatment: covariate nohormon = 1 - hormon.
# Strata, two definitions (Python recomputes them with dmnpc.stats.subgroup.risk_groups):
#   "count":  score = grade3 + nodes4 + size30 (0..3); high if score > mean(score), else low
#   "median": score = nodes + size / 10 (continuous, tied values); high if score > median, else low
#             (a score equal to the threshold goes to the low group in both)
# For each stratum (and "all"): coxph(Surv ~ nohormon) HR with Wald 95% CI and Wald P,
# survdiff log-rank chi-square and P, n and events per arm.
# Interaction: coxph(Surv ~ nohormon * high) vs coxph(Surv ~ nohormon + high):
# LR chi-square = 2 * (loglik full - loglik reduced), 1 df; exp(interaction coef) with Wald CI/P.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

d <- read.csv(file.path("tests", "data", "gbsg.csv"))
d$nohormon <- 1 - d$hormon
d$score_count <- as.numeric(d$grade == 3) + as.numeric(d$nodes >= 4) + as.numeric(d$size >= 30)
d$score_median <- d$nodes + d$size / 10
ctl <- coxph.control(eps = 1e-13, toler.chol = 1e-15, iter.max = 100)  # fully converged MLE

by_stratum <- function(sub, label) {
  f <- coxph(Surv(rfstime, status) ~ nohormon, data = sub, ties = "efron", control = ctl)
  s <- summary(f)$coefficients
  se <- sqrt(vcov(f)[1, 1])
  lr <- survdiff(Surv(rfstime, status) ~ nohormon, data = sub)
  list(stratum = label, n = nrow(sub),
       n_treated = sum(sub$hormon == 1), n_untreated = sum(sub$hormon == 0),
       events_treated = sum(sub$status[sub$hormon == 1]),
       events_untreated = sum(sub$status[sub$hormon == 0]),
       coef = unname(coef(f)), se = se,
       hr = unname(exp(coef(f))), lower = unname(exp(coef(f) - qnorm(0.975) * se)),
       upper = unname(exp(coef(f) + qnorm(0.975) * se)), p = unname(s[1, "Pr(>|z|)"]),
       logrank_chisq = lr$chisq, logrank_p = pchisq(lr$chisq, 1, lower.tail = FALSE))
}

one_def <- function(score, threshold) {
  d$high <- as.numeric(score > threshold)
  rows <- list(by_stratum(d, "all"), by_stratum(d[d$high == 0, ], "low"),
               by_stratum(d[d$high == 1, ], "high"))
  full <- coxph(Surv(rfstime, status) ~ nohormon * high, data = d, ties = "efron", control = ctl)
  red <- coxph(Surv(rfstime, status) ~ nohormon + high, data = d, ties = "efron", control = ctl)
  lr <- 2 * (full$loglik[2] - red$loglik[2])
  av <- anova(red, full)
  b <- coef(full)["nohormon:high"]
  se <- sqrt(vcov(full)["nohormon:high", "nohormon:high"])
  list(threshold = threshold, n_low = sum(d$high == 0), n_high = sum(d$high == 1),
       strata = rows,
       interaction = list(ratio = unname(exp(b)), lower = unname(exp(b - qnorm(0.975) * se)),
                          upper = unname(exp(b + qnorm(0.975) * se)),
                          wald_p = unname(2 * pnorm(-abs(b / se))),
                          lr_chisq = lr, lr_chisq_anova = av$Chisq[2], df = 1,
                          p = pchisq(lr, 1, lower.tail = FALSE),
                          hr_reference = unname(exp(coef(full)["nohormon"])),
                          hr_other = unname(exp(coef(full)["nohormon"] + b)),
                          loglik_full = full$loglik[2], loglik_reduced = red$loglik[2]))
}

out <- list(
  versions = list(R = R.version.string, survival = as.character(packageVersion("survival"))),
  count = one_def(d$score_count, mean(d$score_count)),
  median = one_def(d$score_median, median(d$score_median))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path("tests", "reference", "risk.json"))
