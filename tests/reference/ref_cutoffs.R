# Reference values for dmnpc.stats.roc (tests/stats/test_roc.py): pROC ROC curves, AUC and the Youden-optimal cut
# (coords(roc, "best", best.method = "youden")), with pROC's default direction = "auto".
# Data: survival::gbsg (tests/data/gbsg.csv); outcome = status (recurrence or death).
# nodes: higher in cases (direction "<"); pgr: lower in cases (direction ">").
# Run from the repository root:  Rscript tests/reference/ref_cutoffs.R
suppressPackageStartupMessages({library(pROC); library(jsonlite); library(riskRegression); library(survival)
                                library(prodlim)})
gbsg <- read.csv(file.path("tests", "data", "gbsg.csv"))

one <- function(marker, outcome) {
  r <- roc(outcome, marker, levels = c(0, 1), direction = "auto", quiet = TRUE)
  # all ties for the best are returned by coords(); keep them all
  b <- coords(r, "best", best.method = "youden", ret = c("threshold", "sensitivity", "specificity"),
              transpose = FALSE)
  curve <- coords(r, "all", ret = c("threshold", "sensitivity", "specificity"), transpose = FALSE)
  list(direction = r$direction, auc = as.numeric(auc(r)),
       best = data.frame(threshold = b$threshold, sensitivity = b$sensitivity,
                         specificity = b$specificity, youden = b$sensitivity + b$specificity - 1),
       curve = data.frame(threshold = curve$threshold, sensitivity = curve$sensitivity,
                          specificity = curve$specificity))
}
# a tiny case with tied marker values and a tie for the best cut
tiny <- data.frame(marker = c(1, 2, 2, 3, 4, 4, 5, 6), outcome = c(0, 0, 1, 0, 1, 1, 0, 1))

# Time-dependent (cumulative/dynamic, IPCW with Kaplan-Meier censoring weights) AUC of nodes
td <- Score(list(nodes = gbsg$nodes), formula = Hist(rfstime, status) ~ 1, data = gbsg,
            times = c(730, 1825), metrics = "auc", null.model = FALSE, conf.int = FALSE,
            cens.model = "km")

out <- list(
  riskregression_version = as.character(packageVersion("riskRegression")),
  td_auc_nodes = data.frame(time = td$AUC$score$times, auc = td$AUC$score$AUC),
  proc_version = as.character(packageVersion("pROC")),
  nodes = one(gbsg$nodes, gbsg$status),
  pgr = one(gbsg$pgr, gbsg$status),
  size = one(gbsg$size, gbsg$status),
  tiny_data = tiny,
  tiny = one(tiny$marker, tiny$outcome)
)
write_json(out, file.path("tests", "reference", "cutoffs.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
