# Reference values for dmnpc.audit: Pearson chi-square without and with Yates' continuity
# correction (chisq.test, correct = FALSE / TRUE) and Fisher's exact test (fisher.test) on
# every 2 x 2 table printed in Tables 1 and 2 of Chen et al., Sci Rep 2024;14:3950, read
# from dmnpc/published.yaml (rows = levels, columns = LRRT / without-LRRT), both with the
# printed counts ("printed") and with our decided counts ("decided", the YAML's decisions
# applied to printed levels). Run from the repository root:  Rscript tests/reference/ref_audit.R
suppressPackageStartupMessages({library(jsonlite); library(yaml)})
pub <- yaml::read_yaml(file.path("dmnpc", "published.yaml"))
decided_n <- function(tab, cohort, arm, variable, level, printed) {
  for (d in pub$decisions) {
    if (d$table == tab && d$cohort == cohort && d$arm == arm && d$variable == variable &&
        d$level == level) return(d$n_decided)
  }
  printed
}
out <- list()
for (tab in names(pub$tables)) {
  cohorts <- pub$tables[[tab]]$cohorts
  for (cohort in names(cohorts)) {
    rows <- cohorts[[cohort]]$rows
    for (variable in names(rows)) {
      lev <- rows[[variable]]$levels
      for (basis in c("printed", "decided")) {
        m <- t(vapply(names(lev), function(l) {
          vapply(c("lrrt", "no_lrrt"), function(arm) {
            n <- as.numeric(unlist(lev[[l]][[arm]])[1])
            if (basis == "decided") n <- as.numeric(decided_n(as.integer(tab), cohort, arm, variable, l, n))
            n
          }, numeric(1))
        }, numeric(2)))
        m <- unname(m)
        x1 <- suppressWarnings(chisq.test(m, correct = TRUE))
        x0 <- suppressWarnings(chisq.test(m, correct = FALSE))
        f <- fisher.test(m)
        out[[length(out) + 1]] <- list(
          table = as.integer(tab), cohort = cohort, variable = variable, basis = basis,
          counts = m, p_printed = rows[[variable]]$p,
          p_chi2 = x0$p.value, p_yates = x1$p.value, p_fisher = f$p.value,
          min_expected = min(x0$expected))
      }
    }
  }
}
write_json(list(r_version = R.version.string, cases = out),
           file.path("tests", "reference", "audit.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, matrix = "rowmajor")
