# Reference values for the stratified Cox fit of dmnpc.stats.cox.fit_cox(..., strata=) and the
# stratified treatment x stratum interaction of dmnpc.stats.subgroup.interaction_test(..., stratified=True)
# (tests/stats/test_cox.py, tests/stats/test_subgroup.py), on survival::gbsg (tests/data/gbsg.csv).
# Run from the repository root:  Rscript tests/reference/ref_strata.R   (writes tests/reference/strata.json)
suppressPackageStartupMessages(library(survival))
d <- read.csv(file.path("tests", "data", "gbsg.csv"))
d$nohormon <- 1 - d$hormon
d$grade3 <- as.numeric(d$grade == 3)
d$high <- as.numeric(d$nodes + d$size / 10 > median(d$nodes + d$size / 10))
ctl <- coxph.control(eps = 1e-13, toler.chol = 1e-15, iter.max = 100)
# 1. shared coefficients, one baseline per menopausal status
f <- coxph(Surv(rfstime, status) ~ age + grade3 + nodes + hormon + strata(meno), data = d, ties = "efron",
           control = ctl)
# 2. the interaction with separate baselines per stratum: untreated + untreated x high, strata(high)
full <- coxph(Surv(rfstime, status) ~ nohormon + nohormon:high + strata(high), data = d, ties = "efron", control = ctl)
red <- coxph(Surv(rfstime, status) ~ nohormon + strata(high), data = d, ties = "efron", control = ctl)
b <- coef(full)[2]; se <- sqrt(vcov(full)[2, 2]); lr <- 2 * (full$loglik[2] - red$loglik[2])
num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
out <- c("{",
  sprintf('  "terms": ["age", "grade3", "nodes", "hormon"], "coef": %s, "se": %s, "loglik": %s,',
          num(coef(f)), num(sqrt(diag(vcov(f)))), num(f$loglik)),
  sprintf('  "score_chisq": %.17g, "wald_chisq": %.17g,', f$score, f$wald.test),
  sprintf('  "interaction": {"ratio": %.17g, "lower": %.17g, "upper": %.17g, "lr_chisq": %.17g, "p": %.17g,',
          exp(b), exp(b - qnorm(0.975) * se), exp(b + qnorm(0.975) * se), lr, pchisq(lr, 1, lower.tail = FALSE)),
  sprintf('                  "hr_reference": %.17g, "hr_other": %.17g}', exp(coef(full)[1]), exp(sum(coef(full)))),
  "}")
writeLines(out, file.path("tests", "reference", "strata.json"))
