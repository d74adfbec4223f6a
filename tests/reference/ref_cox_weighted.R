# Reference for dmnpc.stats.cox.fit_cox(weights=, robust=) (tests/stats/test_cox_weighted.py):
# coxph(Surv(t, e) ~ x, weights = w, robust = TRUE), Efron ties: coefficients, the model-based
# ("naive") and robust (sandwich, dfbeta-based) variances, the summary's robust Wald intervals and
# P values, the global Wald test (robust variance), the robust score test, log-likelihoods.
#   gbsg_w      survival::gbsg (tests/data/gbsg.csv; tied times) with arbitrary non-integer weights
#               w = 0.3 + ((37 * pid) %% 101) / 40, computed the same way in the test
#   gbsg_rob    the same terms unweighted with robust = TRUE
#   tied_w      a small data set with many tied deaths, non-integer weights
#   tied_int    the same with integer weights and coxph's default robust (FALSE for integer weights),
#   tied_dup    and the data set with those rows duplicated: under Efron ties a weight of 2 is not
#               two tied rows (coxph weights a tie set's Efron terms by the mean weight of its deaths)
# JSON written by hand (no jsonlite). Run from the repository root:
#   Rscript tests/reference/ref_cox_weighted.R
suppressPackageStartupMessages(library(survival))
gbsg <- read.csv(file.path("tests", "data", "gbsg.csv"))
gbsg$w <- 0.3 + ((37 * gbsg$pid) %% 101) / 40
tied <- data.frame(time = c(1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7, 8, 8, 8, 9),
                   status = c(1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0),
                   x1 = c(0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1),
                   x2 = c(2.1, 0.3, 1.5, 0.7, 1.9, 0.2, 1.1, 2.4, 0.9, 1.3, 0.4, 2.2, 0.8, 1.6, 0.5, 1.2, 2.0, 0.6),
                   w = c(0.5, 1.7, 2.2, 0.9, 1.3, 3.1, 0.4, 1.1, 2.6, 0.8, 1.9, 0.7, 1.4, 2.9, 0.6, 1.8, 1.05, 2.4),
                   wi = c(1, 2, 1, 3, 1, 2, 1, 1, 2, 1, 3, 1, 2, 1, 1, 2, 1, 1))
num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
str <- function(x) paste0("[", paste0('"', x, '"', collapse = ", "), "]")
fitjson <- function(f) {
  s <- summary(f, conf.int = 0.95)
  cf <- s$coefficients
  rob <- "robust se" %in% colnames(cf)
  se <- if (rob) cf[, "robust se"] else cf[, "se(coef)"]
  naive <- if (is.null(f$naive.var)) f$var else f$naive.var
  k <- length(coef(f))
  paste0("{",
    sprintf('"terms": %s, ', str(names(coef(f)))),
    sprintf('"robust": %s, ', if (rob) "true" else "false"),
    sprintf('"coef": %s, "se": %s, "naive_se": %s, ', num(coef(f)), num(se), num(sqrt(diag(naive)))),
    sprintf('"vcov": %s, "naive_vcov": %s, ', num(as.vector(f$var)), num(as.vector(naive))),
    sprintf('"hr": %s, "lower": %s, "upper": %s, ', num(s$conf.int[, "exp(coef)"]),
            num(s$conf.int[, "lower .95"]), num(s$conf.int[, "upper .95"])),
    sprintf('"z": %s, "p": %s, ', num(cf[, "z"]), num(cf[, "Pr(>|z|)"])),
    sprintf('"wald": %.17g, "score": %.17g, "rscore": %s, ', unname(f$wald.test), unname(f$score),
            if (is.null(f$rscore)) "null" else sprintf("%.17g", unname(f$rscore))),
    sprintf('"loglik": %s, "n": %d, "nevent": %d, "df": %d}', num(f$loglik), f$n, f$nevent, k))
}
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)  # full convergence, as fit_cox
fml_g <- Surv(rfstime, status) ~ age + grade + nodes + pgr + hormon
gbsg_w <- coxph(fml_g, data = gbsg, weights = w, robust = TRUE, control = ctl)
gbsg_rob <- coxph(fml_g, data = gbsg, robust = TRUE, control = ctl)
tied_w <- coxph(Surv(time, status) ~ x1 + x2, data = tied, weights = w, robust = TRUE, control = ctl)
tied_int <- coxph(Surv(time, status) ~ x1 + x2, data = tied, weights = wi, control = ctl)
dup <- tied[rep(seq_len(nrow(tied)), tied$wi), ]
tied_dup <- coxph(Surv(time, status) ~ x1 + x2, data = dup, control = ctl)
cols <- c("time", "status", "x1", "x2", "w", "wi")
tied_json <- paste0("{", paste(sprintf('"%s": %s', cols, vapply(cols, function(v) num(tied[[v]]), "")),
                               collapse = ", "), "}")
json <- paste0("{",
  sprintf('"survival": "%s", ', as.character(packageVersion("survival"))),
  '"gbsg_weights": "0.3 + ((37 * pid) %% 101) / 40", ',
  sprintf('"tied_data": %s, ', tied_json),
  sprintf('"gbsg_w": %s, "gbsg_rob": %s, "tied_w": %s, "tied_int": %s, "tied_dup": %s',
          fitjson(gbsg_w), fitjson(gbsg_rob), fitjson(tied_w), fitjson(tied_int), fitjson(tied_dup)),
  "}\n")
cat(json, file = file.path("tests", "reference", "cox_weighted.json"))
