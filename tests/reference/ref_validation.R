# Reference values for dmnpc.stats.validation (tests/stats/test_validation.py).
# rms::validate(cph, method = "boot", B = 200) on survival::gbsg, repeated over
# 20 seeds, so that the Python test can compare its optimism-corrected indexes
# with R's within a Monte Carlo error estimated from R's own seed-to-seed spread.
suppressPackageStartupMessages({library(rms); library(jsonlite)})
gbsg <- read.csv(file.path("tests", "data", "gbsg.csv"))
f <- cph(Surv(rfstime, status) ~ age + meno + size + grade + nodes + pgr + er + hormon,
         data = gbsg, x = TRUE, y = TRUE)
seeds <- 1:20
B <- 200
rows <- list()
secs <- numeric(length(seeds))
for (k in seq_along(seeds)) {
  set.seed(seeds[k])
  secs[k] <- system.time(v <- rms::validate(f, B = B))[["elapsed"]]
  rows[[k]] <- list(seed = seeds[k], index = rownames(v),
                    index_orig = unname(v[, "index.orig"]), training = unname(v[, "training"]),
                    test = unname(v[, "test"]), optimism = unname(v[, "optimism"]),
                    corrected = unname(v[, "index.corrected"]), n = unname(v[, "n"]))
}
out <- list(versions = list(rms = as.character(packageVersion("rms")),
                            survival = as.character(packageVersion("survival"))),
            B = B, coef = as.list(coef(f)), runs = rows, seconds = secs,
            median_seconds = median(secs))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), file.path("tests", "reference", "validation.json"))
cat("median seconds for validate(B=200):", median(secs), "\n")
