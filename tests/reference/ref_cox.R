# Reference values for dmnpc.cox: coxph (Efron ties), global LR/Wald/score tests,
# cox.zph (survival >= 3.0: transform = "km", terms and GLOBAL), a univariable screen
# (one model per term, complete cases), and a small data set with tied event times.
# Data: survival::gbsg (tests/data/gbsg.csv).
# Run from the repository root:  Rscript tests/reference/ref_cox.R
suppressPackageStartupMessages({library(survival); library(jsonlite)})
gbsg <- read.csv(file.path("tests", "data", "gbsg.csv"))
# A covariate with missing values, to check complete-case fitting in the screen:
gbsg$size_na <- ifelse(gbsg$pid %% 10 == 0, NA, gbsg$size)
terms <- c("age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon")

tidy <- function(fit) {
  s <- summary(fit, conf.int = 0.95)
  data.frame(term = names(coef(fit)), coef = unname(coef(fit)), se = unname(sqrt(diag(vcov(fit)))),
             hr = unname(exp(coef(fit))), lower = unname(s$conf.int[, "lower .95"]),
             upper = unname(s$conf.int[, "upper .95"]), z = unname(s$coefficients[, "z"]),
             p = unname(s$coefficients[, "Pr(>|z|)"]))
}
tests <- function(fit) {
  k <- length(coef(fit))
  lr <- 2 * diff(fit$loglik)
  list(loglik_null = fit$loglik[1], loglik = fit$loglik[2], df = k,
       lr_chisq = lr, lr_p = pchisq(lr, k, lower.tail = FALSE),
       wald_chisq = unname(fit$wald.test), wald_p = pchisq(unname(fit$wald.test), k, lower.tail = FALSE),
       score_chisq = unname(fit$score), score_p = pchisq(unname(fit$score), k, lower.tail = FALSE),
       n = fit$n, nevent = fit$nevent)
}
zph <- function(fit) {
  z <- cox.zph(fit)  # default transform = "km", terms = TRUE, global = TRUE
  data.frame(term = rownames(z$table), chisq = unname(z$table[, "chisq"]),
             df = unname(z$table[, "df"]), p = unname(z$table[, "p"]))
}

fml <- as.formula(paste("Surv(rfstime, status) ~", paste(terms, collapse = " + ")))
fit <- coxph(fml, data = gbsg, ties = "efron")

screen <- do.call(rbind, lapply(c(terms, "size_na"), function(v) {
  f <- coxph(as.formula(paste("Surv(rfstime, status) ~", v)), data = gbsg, ties = "efron")
  cbind(tidy(f), n = f$n, nevent = f$nevent)
}))

# Small example with many tied event times (Efron differs from Breslow here)
tied <- data.frame(time = c(1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7, 8),
                   status = c(1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1),
                   x1 = c(0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1),
                   x2 = c(2.1, 0.3, 1.5, 0.7, 1.9, 0.2, 1.1, 2.4, 0.9, 1.3, 0.4, 2.2, 0.8, 1.6, 0.5))
fit_t <- coxph(Surv(time, status) ~ x1 + x2, data = tied, ties = "efron")

out <- list(
  survival_version = as.character(packageVersion("survival")),
  gbsg_terms = terms,
  gbsg = tidy(fit), gbsg_tests = tests(fit), gbsg_zph = zph(fit),
  screen = screen,
  tied_data = tied, tied = tidy(fit_t), tied_tests = tests(fit_t), tied_zph = zph(fit_t)
)
write_json(out, file.path("tests", "reference", "cox.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
