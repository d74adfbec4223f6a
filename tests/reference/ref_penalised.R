# Reference for dmnpc.stats.penalised (tests/stats/test_penalised.py): the leave-one-out cross-validated
# partial log-likelihood of Verweij & van Houwelingen (1993),
#   cvl(theta) = sum_i [ l(b_-i(theta)) - l_-i(b_-i(theta)) ],
# by a plain R loop: b_-i = coef(coxph(~ ridge(Z[-i, ], theta = theta, scale = FALSE))) on the data without
# patient i, l and l_-i the Efron log partial likelihoods of all patients / all but i at b_-i (coxph with
# the linear predictor as offset). Design Z: rms's cph design (x = TRUE) of rcs(age, 3) + rcs(lnodes, 3) +
# rcs(pgr, 3) + meno + grade + hormon + size on a random 90 patients of survival::gbsg (tests/data/gbsg.csv;
# the same rows as ref_splines.R), lnodes = log10(nodes + 1): 10 columns, 42 events. Two penalties: on Z as
# is (scale = FALSE), and on Z divided by its column SDs (the Python default scale = True), with coefficients
# back-transformed; the latter's final fit is also compared with coxph(ridge(Z, theta, scale = TRUE)).
# Run from the repository root: Rscript tests/reference/ref_penalised.R  (about a minute; no jsonlite)
suppressPackageStartupMessages(library(rms))
d <- read.csv(file.path("tests", "data", "gbsg.csv"))
d$lnodes <- log10(d$nodes + 1)
set.seed(90)
rows90 <- sort(sample(nrow(d), 90))
s <- d[rows90, ]
f <- cph(Surv(rfstime, status) ~ rcs(age, 3) + rcs(lnodes, 3) + rcs(pgr, 3) + meno + grade + hormon + size,
         data = s, x = TRUE, y = TRUE)
Z <- unname(f$x)
tm <- s$rfstime; st <- s$status; n <- nrow(Z)
grid <- 10^(seq(-8, 12) / 4)
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
ll_at <- function(tt, ss, lp) coxph(Surv(tt, ss) ~ offset(lp))$loglik
cvl <- function(Zs, theta) {
  tot <- 0
  for (i in seq_len(n)) {
    b <- coef(coxph(Surv(tm[-i], st[-i]) ~ ridge(Zs[-i, ], theta = theta, scale = FALSE), control = ctl))
    tot <- tot + ll_at(tm, st, drop(Zs %*% b)) - ll_at(tm[-i], st[-i], drop(Zs[-i, ] %*% b))
  }
  tot
}
num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
sds <- apply(Z, 2, sd)
runs <- lapply(c(FALSE, TRUE), function(scaled) {
  sc <- if (scaled) sds else rep(1, ncol(Z))
  Zs <- sweep(Z, 2, sc, "/")
  cv <- vapply(grid, function(th) cvl(Zs, th), 0)
  theta <- grid[which.max(cv)]
  fit <- coxph(Surv(tm, st) ~ ridge(Zs, theta = theta, scale = FALSE), control = ctl)
  coef <- coef(fit) / sc
  native <- if (scaled) coef(coxph(Surv(tm, st) ~ ridge(Z, theta = theta, scale = TRUE), control = ctl)) else coef
  sprintf('{"scale": %s, "cvl": %s, "theta": %.17g, "coef": %s, "coef_ridge_native": %s, "loglik": %.17g}',
          tolower(scaled), num(cv), theta, num(coef), num(native), ll_at(tm, st, drop(Z %*% coef)))
})
json <- sprintf('{"rows": %s, "terms": [%s], "grid": %s, "runs": [%s], "rms": "%s", "survival": "%s"}\n',
                num(rows90), paste(sprintf('"%s"', colnames(f$x)), collapse = ", "), num(grid),
                paste(unlist(runs), collapse = ", "), as.character(packageVersion("rms")),
                as.character(packageVersion("survival")))
cat(json, file = file.path("tests", "reference", "penalised.json"))
