# Reference for the nomogram calculator (dmnpc.stats.survfit, dmnpc.paper.calculator and the book's
# JavaScript calculator; tests/stats/test_survfit.py, tests/paper/test_calculator.py,
# tests/book/test_calculator_page.py): predicted overall survival at 12 and 24 months with its
# standard error and 95% confidence interval, survfit.coxph's defaults (conf.type = "log"; after a
# ties = "efron" fit ctype = 2, the Efron-adjusted hazard and variance), for every one of the 32
# covariate patterns of the paper's five binary OS terms. With five binary terms every patient has one
# of these 32 patterns, so any patient's prediction is one of them.
# Cohorts: the synthetic twin (data/twin/dmnpc_twin.csv); "other", the twin with its outcomes
# reassigned among patients (tests/data/other_cohort.csv, written by tests/conftest.py's other_cohort,
# the cohort of the suite's built_other book); and "tied", the twin with OS times rounded up to whole
# quarters so that deaths are tied, with ctype = 2 (the default) and ctype = 1 (Breslow).
# Per cohort and time: surv, std_err (summary.survfit's std.err: the standard error of the survival
# itself, i.e. surv times the standard error of log survival), lower and upper, one value per pattern;
# lp is predict(type = "lp") for the patterns, which here is x'beta (not centred at the means).
# Run from the repository root: Rscript tests/reference/ref_calculator.R
suppressPackageStartupMessages(library(survival))  # JSON written by hand: no jsonlite needed
terms <- c("age_high", "ebv_dna_high", "multiple_lesions", "chemo_cycles_low", "immuno_cycles_low")
code <- function(d) {
  d$age_high <- as.integer(d$age >= 50)
  d$ebv_dna_high <- as.integer(d$ebv_dna >= 66600)
  d$multiple_lesions <- as.integer(d$met_lesions == "multiple")
  d$chemo_cycles_low <- as.integer(d$chemo_cycles < 6)
  d$immuno_cycles_low <- as.integer(d$immuno_cycles < 8)
  d
}
twin <- code(read.csv(file.path("data", "twin", "dmnpc_twin.csv")))
other <- code(read.csv(file.path("tests", "data", "other_cohort.csv")))
tied <- twin
tied$os_months <- ceiling(tied$os_months / 3) * 3
# the 32 patterns, the first term varying fastest
patterns <- expand.grid(rep(list(0:1), 5))
names(patterns) <- terms
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
f5 <- as.formula(paste("Surv(os_months, os_event) ~", paste(terms, collapse = " + ")))
num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
one <- function(d, ctype = NULL) {
  fit <- coxph(f5, data = d, ties = "efron", control = ctl, x = TRUE, model = TRUE)
  sf <- if (is.null(ctype)) survfit(fit, newdata = patterns) else survfit(fit, newdata = patterns, ctype = ctype)
  s <- summary(sf, times = c(12, 24))
  # summary() gives (times x patterns) matrices; row 1 = 12 months, row 2 = 24 months
  fields <- c(surv = "surv", std_err = "std.err", lower = "lower", upper = "upper")
  at <- function(k) paste(sprintf('"%s": %s', names(fields), sapply(fields, function(f) num(s[[f]][k, ]))),
                          collapse = ", ")
  sprintf('{"n": %d, "events": %d, "tied_deaths": %d, "coef": %s, "lp": %s, "t12": {%s}, "t24": {%s}}',
          nrow(d), sum(d$os_event), sum(duplicated(d$os_months[d$os_event == 1])), num(coef(fit)),
          num(predict(fit, newdata = patterns, type = "lp")), at(1), at(2))
}
json <- sprintf(paste0('{"terms": ["%s"], "patterns": %s, "conf_int": 0.95, "conf_type": "log", ',
                       '"cohorts": {"twin": %s, "other": %s, "tied": %s, "tied_breslow": %s}, "survival": "%s"}\n'),
                paste(terms, collapse = '", "'),
                paste0("[", paste(apply(patterns, 1, num), collapse = ", "), "]"),
                one(twin), one(other), one(tied), one(tied, ctype = 1),
                as.character(packageVersion("survival")))
cat(json, file = file.path("tests", "reference", "calculator.json"))
