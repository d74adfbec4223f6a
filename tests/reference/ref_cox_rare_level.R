# coxph on a small data set with one patient in the reference level (tests/data/cox_rare_level.csv,
# made with numpy: one x = 0 patient with an early death among 76 x = 1 patients). lifelines'
# Newton steps overshoot and fail here although the maximum is finite; dmnpc.cox.fit_cox must
# fall back to step-halving Newton-Raphson and agree with coxph.
suppressPackageStartupMessages(library(survival))
d <- read.csv(file.path("tests", "data", "cox_rare_level.csv"))
f <- coxph(Surv(time, event) ~ x, data = d, control = coxph.control(eps = 1e-12, iter.max = 100))
out <- list(coef = unname(coef(f)), se = unname(sqrt(diag(vcov(f)))),
            loglik = f$loglik, survival = as.character(packageVersion("survival")))
jsonlite::write_json(out, file.path("tests", "reference", "cox_rare_level.json"), digits = NA, auto_unbox = TRUE)
