# Reference for dmnpc.stats.samplesize (tests/stats/test_samplesize.py): Riley et al.'s minimum
# sample size for a time-to-event prediction model (Stat Med 2019;38:1276-1296; BMJ 2020;368:m441),
# written here from the papers' formulas, independently of the Python (pmsampsize itself is not
# installed: CRAN is unreachable). Where the Python uses closed forms this script solves numerically:
#   * max Cox-Snell R2: the exponential null log-likelihood E log(E / T) - E of a cohort of 1000
#     patients with time in units of the mean follow-up (T = 1000, E = 1000 rate meanfup), or,
#     with reference_n, pmsampsize's cohort of reference_n patients and ceiling(events);
#   * criterion 3: uniroot on log(n) of the larger distance of the two confidence limits of the risk
#     at the time point from the risk itself (the Python inverts the lower distance in closed form);
#   * expected shrinkage at the required n: uniroot of (S - 1) log(1 - R2 / S) = p / n.
# Also survival::summary.coxph's rsq and maxrsq of a Cox fit on gbsg (the Cox-Snell R2 helpers).
# Run from the repository root: Rscript tests/reference/ref_samplesize.R
suppressPackageStartupMessages(library(survival))  # JSON written by hand: no jsonlite needed

max_r2 <- function(rate, meanfup, reference_n = NA) {
  if (is.na(reference_n)) {
    n <- 1000
    E <- n * rate * meanfup
  } else {
    n <- reference_n
    E <- ceiling(n * rate * meanfup)
  }
  lnLnull <- E * log(E / n) - E          # time in mean follow-ups: total follow-up T = n
  1 - exp(2 * lnLnull / n)
}
n_for_shrinkage <- function(p, r2, S) p / ((S - 1) * log(1 - r2 / S))
shrinkage_at <- function(p, r2, n) {
  uniroot(function(S) (S - 1) * log(1 - r2 / S) - p / n, c(r2 + 1e-9, 1), tol = 1e-15,
          maxiter = 1000)$root
}
risk_limits <- function(rate, t, n, meanfup, z) {
  half <- z * sqrt(rate / (n * meanfup))
  c(1 - exp(-(rate - half) * t), 1 - exp(-(rate + half) * t))
}
criterion3 <- function(rate, t, meanfup, margin, z) {
  risk <- 1 - exp(-rate * t)
  worst <- function(u) {
    lim <- risk_limits(rate, t, exp(u), meanfup, z)
    max(risk - lim[1], lim[2] - risk) - margin
  }
  exp(uniroot(worst, c(log(1e-6), log(1e12)), tol = 1e-14, maxiter = 1000)$root)
}

riley <- function(p, r2, rate, t, meanfup, shrinkage = 0.9, delta = 0.05, margin = 0.05,
                  conf = 0.95, reference_n = NA) {
  z <- qnorm(1 - (1 - conf) / 2)
  mx <- max_r2(rate, meanfup, reference_n)
  s2 <- r2 / (r2 + delta * mx)
  n1 <- n_for_shrinkage(p, r2, shrinkage)
  n2 <- n_for_shrinkage(p, r2, s2)
  n3 <- criterion3(rate, t, meanfup, margin, z)
  n <- max(ceiling(c(n1, n2, n3)))
  lim <- risk_limits(rate, t, n, meanfup, z)
  list(parameters = p, r2_cs = r2, rate = rate, timepoint = t, mean_followup = meanfup,
       shrinkage = shrinkage, delta = delta, margin = margin, conf_level = conf,
       reference_n = reference_n, max_r2_cs = mx, criterion2_shrinkage = s2,
       n1 = n1, n2 = n2, n3 = n3, required_n = n, shrinkage_at_n = shrinkage_at(p, r2, n),
       events = n * rate * meanfup, epp = n * rate * meanfup / p, risk = 1 - exp(-rate * t),
       risk_lower = lim[1], risk_upper = lim[2])
}

cases <- list(
  # Riley et al. BMJ 2020, recurrent venous thromboembolism example (also pmsampsize's help example)
  riley(30, 0.051, 0.065, 2, 2.07),
  riley(30, 0.051, 0.065, 2, 2.07, reference_n = 10000),
  # the inputs of pmsampsize's own tests (tests/testthat/test_surv.R, tests 3.1-3.9)
  riley(25, 0.051, 0.065, 2, 2.07),
  riley(25, 0.065, 0.065, 2, 2.07),
  riley(50, 0.051, 0.065, 2, 2.07),
  riley(25, 0.051, 0.1, 2, 2.07),
  riley(25, 0.051, 0.065, 4, 2.07),
  riley(25, 0.051, 0.065, 2, 4),
  riley(40, 0.06, 0.08, 3, 5),
  riley(10, 0.03, 0.09, 3, 3),
  riley(80, 0.3, 0.03, 1, 5),
  riley(80, 0.3, 0.03, 1, 5, reference_n = 10000),
  # criterion 3 sets the size: few parameters, a high risk at the time point
  riley(2, 0.1, 0.3, 3, 1.5),
  # every option away from its default
  riley(12, 0.12, 0.2, 1, 3, shrinkage = 0.85, delta = 0.03, margin = 0.03, conf = 0.9),
  # no previous model: R2cs = 15% of its maximum (Riley et al. BMJ 2020)
  riley(8, 0.15 * max_r2(0.1, 2.5), 0.1, 3, 2.5)
)

# Cox-Snell R2 helpers: survival's own rsq / maxrsq, and the heuristic shrinkage from the same fit
d <- read.csv(file.path("tests", "data", "gbsg.csv"))
terms <- c("age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon")
f <- coxph(reformulate(terms, "Surv(rfstime, status)"), data = d, control = coxph.control(eps = 1e-10, iter.max = 100))
s <- summary(f)
lr <- unname(s$logtest["test"])
df <- unname(s$logtest["df"])
shrink <- (lr - df) / lr

num <- function(x) if (is.na(x)) "null" else sprintf("%.17g", x)
case_json <- vapply(cases, function(k) {
  paste0("{", paste(sprintf('"%s": %s', names(k), vapply(k, num, "")), collapse = ", "), "}")
}, "")
cox_json <- sprintf(paste0('{"terms": [%s], "n": %d, "lr_chisq": %s, "df": %d, "loglik_null": %s, ',
                           '"rsq": %s, "maxrsq": %s, "heuristic_shrinkage": %s, "adjusted_rsq": %s}'),
                    paste0('"', terms, '"', collapse = ", "), f$n, num(lr), as.integer(df),
                    num(f$loglik[1]), num(unname(s$rsq["rsq"])), num(unname(s$rsq["maxrsq"])),
                    num(shrink), num(shrink * unname(s$rsq["rsq"])))
json <- sprintf('{"cases": [%s], "gbsg_cox": %s, "R": "%s", "survival": "%s"}\n',
                paste(case_json, collapse = ",\n "), cox_json,
                paste(R.version$major, R.version$minor, sep = "."),
                as.character(packageVersion("survival")))
cat(json, file = file.path("tests", "reference", "samplesize.json"))
