# Reference for dmnpc.stats.validation.ridge_cox (tests/stats/test_validation.py):
# coxph with a ridge penalty theta * sum(beta^2) / 2 (survival::ridge, scale = FALSE), Efron ties,
# on survival::gbsg (tests/data/gbsg.csv) with an added term 'late' = censored after 2000 days,
# a term with no deaths: its unpenalised coefficient diverges (monotone likelihood), the ridge
# fit is finite. Run from the repository root: Rscript tests/reference/ref_ridge.R
suppressPackageStartupMessages(library(survival))  # JSON written by hand: no jsonlite needed
d <- read.csv(file.path("tests", "data", "gbsg.csv"))
d$late <- as.integer(d$rfstime > 2000 & d$status == 0)
ctl <- coxph.control(eps = 1e-10, iter.max = 100)
fits <- lapply(c(0.181, 2), function(theta) {
  f <- coxph(Surv(rfstime, status) ~ ridge(meno, hormon, grade, late, theta = theta, scale = FALSE),
             data = d, control = ctl)
  list(theta = theta, coef = unname(coef(f)), loglik = unname(f$loglik),
       penalty = unname(f$penalty))
})
num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
fit_json <- vapply(fits, function(f) sprintf('{"theta": %.17g, "coef": %s, "loglik": %s, "penalty": %s}',
                                             f$theta, num(f$coef), num(f$loglik), num(f$penalty)), "")
json <- sprintf('{"terms": ["meno", "hormon", "grade", "late"], "fits": [%s], "survival": "%s"}\n',
                paste(fit_json, collapse = ", "),
                as.character(packageVersion("survival")))
cat(json, file = file.path("tests", "reference", "ridge.json"))
