# Reference for the generic pieces of the treatment appraisal in dmnpc.stats.subgroup
# (tests/stats/test_subgroup.py): landmark, interaction_continuous and survival_difference, on
# survival::gbsg (tests/data/gbsg.csv; treatment = hormon, time = rfstime in days, event = status).
# (1) Landmark at 529 days, a time with one death and one censoring exactly at it (both left out:
#     subset(rfstime > 529)), times shifted to the landmark; Cox model nohormon + nodes on it.
# (2) hormon x continuous modifier (nodes; age / 10): coxph(~ nohormon + m + nohormon:m) against
#     the model without the product term, likelihood-ratio test by anova().
# (3) Kaplan-Meier survival at 859 days (an event time with tied deaths and a censoring) and at
#     1825 days with and without hormon, Greenwood standard errors (summary(survfit)$std.err) and
#     the difference with hormon minus without, Wald 95% CI with the two variances added.
# Efron ties, full convergence. Run from the repository root: Rscript tests/reference/ref_treatment_stats.R
suppressPackageStartupMessages(library(survival))  # JSON written by hand: no jsonlite needed
d <- read.csv(file.path("tests", "data", "gbsg.csv"))
d$nohormon <- 1L - d$hormon
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
# (1) landmark
at <- 529
lm <- subset(d, rfstime > at)
lm$rfstime <- lm$rfstime - at
f_lm <- coxph(Surv(rfstime, status) ~ nohormon + nodes, data = lm, ties = "efron", control = ctl)
lm_json <- sprintf(paste0('{"at": %.17g, "n": %d, "events": %d, "time_sum": %.17g, ',
                          '"coef": %s, "se": %s, "loglik": %s}'),
                   at, nrow(lm), sum(lm$status), sum(lm$rfstime), num(coef(f_lm)),
                   num(sqrt(diag(vcov(f_lm)))), num(f_lm$loglik))
# (2) continuous interaction
cont <- function(m) {
  d$m <- m
  full <- coxph(Surv(rfstime, status) ~ nohormon + m + nohormon:m, data = d, ties = "efron", control = ctl)
  red <- coxph(Surv(rfstime, status) ~ nohormon + m, data = d, ties = "efron", control = ctl)
  a <- anova(red, full)
  b <- coef(full)[3]
  se <- sqrt(vcov(full)[3, 3])
  z <- qnorm(0.975)
  sprintf('{"coef": %.17g, "se": %.17g, "ratio": %.17g, "lower": %.17g, "upper": %.17g, "lr_chisq": %.17g, "p": %.17g}',
          b, se, exp(b), exp(b - z * se), exp(b + z * se), a$Chisq[2], a[["Pr(>|Chi|)"]][2])
}
cont_json <- sprintf('{"nodes": %s, "age10": %s}', cont(d$nodes), cont(d$age / 10))
# (3) survival differences
diff1 <- function(h) {
  s <- sapply(c(1, 0), function(a) {
    sm <- summary(survfit(Surv(rfstime, status) ~ 1, data = d[d$hormon == a, ]), times = h)
    c(sm$surv, sm$std.err)
  })
  est <- s[1, 1] - s[1, 2]
  se <- sqrt(s[2, 1]^2 + s[2, 2]^2)
  z <- qnorm(0.975)
  sprintf('"%g": {"est": %.17g, "lower": %.17g, "upper": %.17g, "se": %.17g, "surv_1": %.17g, "surv_0": %.17g}',
          h, est, est - z * se, est + z * se, se, s[1, 1], s[1, 2])
}
diff_json <- paste0("{", paste(sapply(c(859, 1825), diff1), collapse = ", "), "}")
json <- sprintf('{"landmark": %s, "continuous": %s, "difference": %s, "survival": "%s"}\n', lm_json, cont_json,
                diff_json, as.character(packageVersion("survival")))
cat(json, file = file.path("tests", "reference", "treatment_stats.json"))
