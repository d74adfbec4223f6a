# Reference values for dmnpc.tables: chisq.test with and without Yates' continuity
# correction (R applies it to 2 x 2 tables only) and fisher.test (exact; Freeman-Halton
# network algorithm for r x c) on contingency tables, rows = groups, columns = levels.
# Includes gbsg cross-tables (tests/data/gbsg.csv), counts printed in Table 1 of
# Chen et al. 2024 (LRRT vs without-LRRT), and tables with small cells.
# Run from the repository root:  Rscript tests/reference/ref_tables.R
suppressPackageStartupMessages({library(jsonlite)})
gbsg <- read.csv(file.path("tests", "data", "gbsg.csv"))

tab <- list(
  gbsg_hormon_meno = unclass(table(gbsg$hormon, gbsg$meno)),
  gbsg_hormon_grade = unclass(table(gbsg$hormon, gbsg$grade)),
  paper_age = rbind(c(35, 34), c(11, 10)),
  paper_ecog = rbind(c(0, 69), c(1, 20)),
  paper_lesions = rbind(c(14, 55), c(1, 20)),
  paper_liver = rbind(c(47, 22), c(7, 14)),
  paper_immuno = rbind(c(37, 32), c(17, 4)),
  small_2x2 = rbind(c(3, 1), c(1, 3)),
  small_2x3 = rbind(c(2, 0, 5), c(1, 4, 0)),
  small_2x4 = rbind(c(5, 2, 0, 1), c(1, 3, 4, 2)),
  zero_row_cell = rbind(c(10, 0), c(7, 5))
)
res <- lapply(tab, function(m) {
  m <- matrix(as.numeric(m), nrow = nrow(m))
  x1 <- suppressWarnings(chisq.test(m, correct = TRUE))
  x0 <- suppressWarnings(chisq.test(m, correct = FALSE))
  f <- fisher.test(m)
  list(table = m, chisq_yates = unname(x1$statistic), p_chisq_yates = x1$p.value,
       chisq = unname(x0$statistic), p_chisq = x0$p.value, df = unname(x0$parameter),
       p_fisher = f$p.value, min_expected = min(x0$expected))
})
write_json(res, file.path("tests", "reference", "tables.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null", matrix = "rowmajor")
