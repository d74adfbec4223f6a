# Reference for dmnpc.stats.evalue (tests/stats/test_evalue.py): E-values of VanderWeele & Ding
# (Ann Intern Med 2017;167:268-274) as EValue::evalues.RR / evalues.HR compute them. EValue is not
# installable here (not on this machine's CRAN mirror), so its formulas are written plainly:
#   E(RR) = RR + sqrt(RR (RR - 1)) for RR >= 1, of 1/RR for RR < 1;
#   CI: the E-value of the limit closer to 1, 1 if the interval includes 1;
#   HR with a common outcome (rare = FALSE): RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)).
# Cases: the worked examples (RR 3.9, 1.8-8.7; smoking and lung cancer RR 10.73, 8.02-14.36),
# protective and null-crossing estimates, and hazard ratios (among them Chen et al.'s high-risk
# HR 2.46, 1.01-6.00) with common and rare outcomes.
# JSON written by hand (no jsonlite). Run from the repository root: Rscript tests/reference/ref_evalue.R
threshold <- function(x) { x <- ifelse(x < 1, 1 / x, x); x + sqrt(x * (x - 1)) }
hr_to_rr <- function(hr) (1 - 0.5^sqrt(hr)) / (1 - 0.5^sqrt(1 / hr))
evalues <- function(est, lo, hi) {
  ci <- if (est > 1) { if (lo <= 1) 1 else threshold(lo) } else if (est < 1) { if (hi >= 1) 1 else threshold(hi) } else 1
  c(threshold(est), ci)
}
cases <- list(
  list(measure = "RR", rare = NA, est = 3.9, lo = 1.8, hi = 8.7),
  list(measure = "RR", rare = NA, est = 10.73, lo = 8.02, hi = 14.36),
  list(measure = "RR", rare = NA, est = 0.8, lo = 0.71, hi = 0.91),
  list(measure = "RR", rare = NA, est = 1.3, lo = 0.9, hi = 1.9),
  list(measure = "RR", rare = NA, est = 0.5, lo = 0.3, hi = 1.2),
  list(measure = "HR", rare = FALSE, est = 2.46, lo = 1.01, hi = 6.00),
  list(measure = "HR", rare = TRUE, est = 2.46, lo = 1.01, hi = 6.00),
  list(measure = "HR", rare = FALSE, est = 0.4, lo = 0.2, hi = 0.8),
  list(measure = "HR", rare = FALSE, est = 1.5, lo = 0.9, hi = 2.5),
  list(measure = "HR", rare = FALSE, est = 0.7, lo = 0.5, hi = 1.1),
  list(measure = "HR", rare = FALSE, est = 12, lo = 4, hi = 36))
case_json <- vapply(cases, function(k) {
  conv <- if (k$measure == "HR" && !k$rare) hr_to_rr else identity
  rr <- conv(c(k$est, k$lo, k$hi))
  e <- evalues(rr[1], rr[2], rr[3])
  sprintf(paste0('{"measure": "%s", "rare": %s, "est": %.17g, "lo": %.17g, "hi": %.17g, ',
                 '"rr": [%.17g, %.17g, %.17g], "evalue": %.17g, "evalue_ci": %.17g}'),
          k$measure, if (is.na(k$rare)) "null" else tolower(k$rare), k$est, k$lo, k$hi, rr[1], rr[2], rr[3],
          e[1], e[2])
}, "")
cat(sprintf('{"R": "%s", "cases": [%s]}\n', R.version$version.string, paste(case_json, collapse = ", ")),
    file = file.path("tests", "reference", "evalue.json"))
