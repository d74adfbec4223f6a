# Reference for dmnpc.paper.treatment and dmnpc.stats.subgroup (tests/paper/test_treatment.py):
# on the synthetic twin (data/twin/dmnpc_twin.csv), (1) the 6-month landmark analysis: the paper's
# five-term OS model and the unadjusted HR without vs with LRRT among patients with os_months > 6,
# time from the landmark; (2) the LRRT x continuous nomogram score interaction (score = total points
# / 100 = linear predictor / largest coefficient, up to a constant that changes neither the product term
# nor the mean split), likelihood-ratio test; (3) the mean split of the
# nomogram score and, in each risk cohort, 24-month Kaplan-Meier survival with and without LRRT,
# Greenwood standard errors and their difference with a Wald 95% CI; (4) the LRRT x risk-cohort
# interaction, likelihood-ratio test, with one baseline shared by the cohorts and one per cohort.
# Efron ties, full convergence.
# Run from the repository root: Rscript tests/reference/ref_treatment.R
suppressPackageStartupMessages(library(survival))
d <- read.csv(file.path("data", "twin", "dmnpc_twin.csv"))
d$age_high <- as.integer(d$age >= 50)
d$ebv_dna_high <- as.integer(d$ebv_dna >= 66600)
d$multiple_lesions <- as.integer(d$met_lesions == "multiple")
d$chemo_cycles_low <- as.integer(d$chemo_cycles < 6)
d$immuno_cycles_low <- as.integer(d$immuno_cycles < 8)
d$no_lrrt <- 1L - d$lrrt
terms <- c("age_high", "ebv_dna_high", "multiple_lesions", "chemo_cycles_low", "immuno_cycles_low")
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
f5 <- as.formula(paste("Surv(os_months, os_event) ~", paste(terms, collapse = " + ")))
num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
rec <- function(fit, term) {
  s <- summary(fit)
  c(s$conf.int[term, "exp(coef)"], s$conf.int[term, "lower .95"], s$conf.int[term, "upper .95"],
    s$coefficients[term, "Pr(>|z|)"])
}
# (1) landmark at 6 months
lm <- subset(d, os_months > 6)
lm$os_months <- lm$os_months - 6
fit_lm <- coxph(f5, data = lm, ties = "efron", control = ctl)
fit_lrrt <- coxph(Surv(os_months, os_event) ~ no_lrrt, data = lm, ties = "efron", control = ctl)
lm_json <- sprintf('{"n": %d, "events": %d, "cox_os": {%s}, "lrrt": %s}', nrow(lm), sum(lm$os_event),
                   paste(sprintf('"%s": %s', terms, sapply(terms, function(t) num(rec(fit_lm, t)))), collapse = ", "),
                   num(rec(fit_lrrt, "no_lrrt")))
# (2) continuous score interaction
fit <- coxph(f5, data = d, ties = "efron", control = ctl)
b <- coef(fit)
d$score <- as.vector(as.matrix(d[, terms]) %*% b) / max(abs(b))
full <- coxph(Surv(os_months, os_event) ~ no_lrrt + score + no_lrrt:score, data = d, ties = "efron", control = ctl)
red <- coxph(Surv(os_months, os_event) ~ no_lrrt + score, data = d, ties = "efron", control = ctl)
lr <- 2 * (full$loglik[2] - red$loglik[2])
ci <- summary(full)$conf.int["no_lrrt:score", ]
cont_json <- sprintf('{"ratio": %.17g, "lower": %.17g, "upper": %.17g, "lr_chisq": %.17g, "p": %.17g}',
                     ci[1], ci[3], ci[4], lr, pchisq(lr, 1, lower.tail = FALSE))
# (3) mean split and 24-month differences (a score equal to the mean is low risk)
high <- d$score > mean(d$score) + 1e-9 * abs(mean(d$score))
diff_json <- c()
for (cohort in c("low", "high")) {
  sub <- d[if (cohort == "high") high else !high, ]
  s <- sapply(c(1, 0), function(a) {
    km <- survfit(Surv(os_months, os_event) ~ 1, data = sub[sub$lrrt == a, ])
    sm <- summary(km, times = 24)
    c(sm$surv, sm$std.err)
  })
  est <- s[1, 1] - s[1, 2]
  se <- sqrt(s[2, 1]^2 + s[2, 2]^2)
  z <- qnorm(0.975)
  diff_json <- c(diff_json, sprintf('"%s": {"n": %d, "est": %.17g, "lower": %.17g, "upper": %.17g, "surv_1": %.17g, "surv_0": %.17g}',
                                    cohort, nrow(sub), est, est - z * se, est + z * se, s[1, 1], s[1, 2]))
}
# (4) LRRT x risk-cohort interaction: one shared baseline (high as a term) or one per cohort (strata(high))
d$high <- as.integer(high)
inter <- function(full, red) {
  s <- summary(full)$conf.int["no_lrrt:high", ]
  lr <- 2 * (full$loglik[2] - red$loglik[2])
  sprintf('{"ratio": %.17g, "lower": %.17g, "upper": %.17g, "lr_chisq": %.17g, "p": %.17g}',
          s[1], s[3], s[4], lr, pchisq(lr, 1, lower.tail = FALSE))
}
shared <- inter(coxph(Surv(os_months, os_event) ~ no_lrrt + high + no_lrrt:high, data = d, ties = "efron", control = ctl),
                coxph(Surv(os_months, os_event) ~ no_lrrt + high, data = d, ties = "efron", control = ctl))
strat <- inter(coxph(Surv(os_months, os_event) ~ no_lrrt + no_lrrt:high + strata(high), data = d, ties = "efron",
                     control = ctl),
               coxph(Surv(os_months, os_event) ~ no_lrrt + strata(high), data = d, ties = "efron", control = ctl))
json <- sprintf('{"landmark": %s, "continuous": %s, "difference": {%s}, "interaction": {"shared": %s, "stratified": %s}, "survival": "%s"}\n',
                lm_json, cont_json, paste(diff_json, collapse = ", "), shared, strat,
                as.character(packageVersion("survival")))
cat(json, file = file.path("tests", "reference", "treatment.json"))
