# Reference for dmnpc.stats.weighting (tests/stats/test_weighting.py), on the synthetic twin
# (data/twin/dmnpc_twin.csv): treatment = LRRT; propensity score from
#   glm(lrrt ~ age + log10(ebv_dna + 1) + T3-4 + N2-3 + multi_organ_mets + multiple lesions
#       + liver_mets + bone_mets + lung_mets, family = binomial)
# (fully converged: epsilon = 1e-14), then, computed plainly here (no WeightIt / cobalt):
#   stabilised IPW weights  P(T=1)/e (treated), (1 - P(T=1))/(1 - e) (untreated)
#   overlap weights         1 - e (treated), e (untreated)
#   SMD = (weighted mean treated - weighted mean untreated) / sqrt((s1^2 + s0^2) / 2), the SDs from
#         the unweighted arms: var() (n - 1) for continuous, p (1 - p) for 0/1 covariates
#   Kish effective sample size (sum w)^2 / sum w^2 per arm
#   coxph(Surv(os_months, os_event) ~ no_lrrt, weights = w, robust = TRUE) for each weighting.
# Also whether glm warns on two separated designs (a copy of the treatment; a covariate that is 1
# only in treated patients): the Python raises SeparationError on both.
# JSON written by hand (no jsonlite). Run from the repository root:
#   Rscript tests/reference/ref_weighting.R
suppressPackageStartupMessages(library(survival))
d <- read.csv(file.path("data", "twin", "dmnpc_twin.csv"))
X <- data.frame(age = d$age, log10_ebv = log10(d$ebv_dna + 1),
                t34 = as.integer(d$t_stage %in% c("T3", "T4")), n23 = as.integer(d$n_stage %in% c("N2", "N3")),
                multi_organ_mets = d$multi_organ_mets, multiple_lesions = as.integer(d$met_lesions == "multiple"),
                liver_mets = d$liver_mets, bone_mets = d$bone_mets, lung_mets = d$lung_mets)
tr <- d$lrrt
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
g <- glm(tr ~ ., data = X, family = binomial, control = ctl)
e <- unname(fitted(g))
p1 <- mean(tr)
w <- list(ipw_stabilised = ifelse(tr == 1, p1 / e, (1 - p1) / (1 - e)),
          overlap = ifelse(tr == 1, 1 - e, e))
binary <- vapply(X, function(x) all(x %in% c(0, 1)), TRUE)
smd <- function(wt) {
  rows <- lapply(names(X), function(v) {
    x <- X[[v]]; x1 <- x[tr == 1]; x0 <- x[tr == 0]
    if (binary[[v]]) { m1 <- mean(x1); m0 <- mean(x0); v1 <- m1 * (1 - m1); v0 <- m0 * (1 - m0) }
    else { v1 <- var(x1); v0 <- var(x0) }
    sd <- sqrt((v1 + v0) / 2)
    mw1 <- sum(wt[tr == 1] * x1) / sum(wt[tr == 1]); mw0 <- sum(wt[tr == 0] * x0) / sum(wt[tr == 0])
    c(mean(x1), mean(x0), sd, (mean(x1) - mean(x0)) / sd, mw1, mw0, (mw1 - mw0) / sd)
  })
  do.call(rbind, rows)
}
ess <- function(wt) c(sum(wt[tr == 1])^2 / sum(wt[tr == 1]^2), sum(wt[tr == 0])^2 / sum(wt[tr == 0]^2))
d$no_lrrt <- 1 - tr
cctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
str <- function(x) paste0("[", paste0('"', x, '"', collapse = ", "), "]")
coxjson <- function(f) {
  s <- summary(f, conf.int = 0.95); cf <- s$coefficients
  rob <- "robust se" %in% colnames(cf)
  sprintf(paste0('{"coef": %.17g, "se": %.17g, "naive_se": %.17g, "hr": %.17g, "lower": %.17g, ',
                 '"upper": %.17g, "z": %.17g, "p": %.17g, "rscore": %s, "n": %d, "nevent": %d}'),
          coef(f), if (rob) cf[, "robust se"] else cf[, "se(coef)"], sqrt(f$naive.var %||% f$var),
          s$conf.int[, "exp(coef)"], s$conf.int[, "lower .95"], s$conf.int[, "upper .95"], cf[, "z"],
          cf[, "Pr(>|z|)"], if (is.null(f$rscore)) "null" else sprintf("%.17g", f$rscore), f$n, f$nevent)
}
`%||%` <- function(a, b) if (is.null(a)) b else a
wjson <- vapply(names(w), function(k) {
  wt <- w[[k]]; d$w <- wt
  f <- coxph(Surv(os_months, os_event) ~ no_lrrt, data = d, weights = w, robust = TRUE, control = cctl)
  m <- smd(wt)
  sprintf(paste0('"%s": {"weights": %s, "ess": %s, "mean_treated": %s, "mean_untreated": %s, "sd_pooled": %s, ',
                 '"smd": %s, "mean_treated_w": %s, "mean_untreated_w": %s, "smd_w": %s, "cox": %s}'),
          k, num(wt), num(ess(wt)), num(m[, 1]), num(m[, 2]), num(m[, 3]), num(m[, 4]), num(m[, 5]),
          num(m[, 6]), num(m[, 7]), coxjson(f))
}, "")
f0 <- coxph(Surv(os_months, os_event) ~ no_lrrt, data = d, control = cctl)
warns <- function(Z) {
  msg <- character(0)
  withCallingHandlers(glm(tr ~ ., data = Z, family = binomial),
                      warning = function(w) { msg <<- c(msg, conditionMessage(w)); invokeRestart("muffleWarning") })
  if (length(msg)) str(unique(msg)) else "[]"
}
json <- paste0("{",
  sprintf('"R": "%s", "survival": "%s", ', R.version$version.string, as.character(packageVersion("survival"))),
  sprintf('"terms": %s, "binary": %s, ', str(names(X)), paste0("[", paste(tolower(binary), collapse = ", "), "]")),
  sprintf('"glm_coef": %s, "glm_se": %s, "glm_deviance": %.17g, "ps": %s, ', num(coef(g)),
          num(sqrt(diag(vcov(g)))), deviance(g), num(e)),
  paste(wjson, collapse = ", "),
  sprintf(', "unweighted_cox": %s, ', coxjson(f0)),
  sprintf('"glm_warnings_exact": %s, ', warns(cbind(X, copy = tr))),
  sprintf('"glm_warnings_quasi": %s', warns(cbind(X, q = as.integer(tr == 1 & d$age < 40)))),
  "}\n")
cat(json, file = file.path("tests", "reference", "weighting.json"))
