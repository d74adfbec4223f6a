# Reference for the results JSON's `appraisal` section (dmnpc.paper.appraisal, report._appraisal_section;
# tests/paper/test_appraisal_r.py), computed in R on the synthetic twin (data/twin/dmnpc_twin.csv)
# independently of the Python:
#   * the paper's five-term OS Cox model (age >= 50, EBV DNA >= 66600, multiple lesions, chemotherapy
#     < 6 cycles, immunotherapy < 8 cycles; Efron ties) by survival::coxph;
#   * sample_size: Riley et al. (BMJ 2020;368:m441; Stat Med 2019;38:1276-1296), written here from the
#     papers' formulas: 16 candidate parameters, R2cs = heuristic shrinkage x apparent Cox-Snell R2 of the
#     five-term model, rate = deaths / person-months, mean follow-up = mean OS time, risk at 24 months;
#     max R2cs from the exponential null log-likelihood E log(E / T) - E of a cohort of 1000 patients with
#     time in units of the mean follow-up; criterion 3 by uniroot on log(n) (the Python: closed form);
#   * shrinkage: heuristic (LR - df) / LR; the ridge penalty by leave-one-out cross-validated partial
#     likelihood (Verweij & van Houwelingen 1993) over 10^(k/4), k = -8..12, by a plain loop of
#     coxph(ridge(Z[-i, ], theta, scale = FALSE)) on the columns divided by their full-data SDs (as
#     tests/reference/ref_penalised.R); the bootstrap slope is Monte Carlo and not referenced here;
#   * continuous vs dichotomised: rms::cph(rcs(age, 3) + rcs(log10(ebv_dna + 1), 3) + chemo_cycles +
#     immuno_cycles + multiple_lesions), LR chi-square, df, AIC = -2 loglik + 2 df, Harrell's C by
#     survival::concordance(reverse = TRUE) (rms's Dxy / 2 + 0.5 recorded alongside);
#   * utility at 12 and 24 months: predicted risk 1 - S(t | x) from survfit.coxph; net benefit by the
#     Kaplan-Meier definition of Vickers et al. (2008) written plainly (as tests/reference/ref_utility.R,
#     no extension beyond the treated patients' follow-up); Brier and IPA by riskRegression::Score on the
#     coxph fit (cens.model = "km"); O/E at 24 months = (1 - KM(24)) / mean(1 - S(24 | x)).
# Run from the repository root: Rscript tests/reference/ref_appraisal.R  (a minute or two; no jsonlite)
suppressPackageStartupMessages({library(survival); library(rms); library(riskRegression)})
d <- read.csv(file.path("data", "twin", "dmnpc_twin.csv"), stringsAsFactors = FALSE)
d$age_high <- as.numeric(d$age >= 50)
d$ebv_dna_high <- as.numeric(d$ebv_dna >= 66600)
d$multiple_lesions <- as.numeric(d$met_lesions == "multiple")
d$chemo_cycles_low <- as.numeric(d$chemo_cycles < 6)
d$immuno_cycles_low <- as.numeric(d$immuno_cycles < 8)
d$log10_ebv <- log10(d$ebv_dna + 1)
terms <- c("age_high", "ebv_dna_high", "multiple_lesions", "chemo_cycles_low", "immuno_cycles_low")
tm <- d$os_months; st <- d$os_event; n <- nrow(d)
ctl <- coxph.control(eps = 1e-10, iter.max = 100)
fit <- coxph(reformulate(terms, "Surv(os_months, os_event)"), data = d, ties = "efron", control = ctl,
             x = TRUE, y = TRUE)
lr <- 2 * diff(fit$loglik)
k <- length(coef(fit))

# ---- sample size (Riley et al.), from the papers' formulas
p_cand <- 16
timepoint <- 24
events <- sum(st)
rate <- events / sum(tm)
meanfup <- mean(tm)
heuristic <- (lr - k) / lr
r2_app <- 1 - exp(-lr / n)
r2 <- heuristic * r2_app
riley_n <- function(p, r2, S) p / ((S - 1) * log(1 - r2 / S))
max_r2 <- {
  m <- 1000
  E <- m * rate * meanfup                 # expected events among m patients
  lnl0 <- E * log(E / m) - E              # exponential null model, total follow-up m mean follow-ups
  1 - exp(2 * lnl0 / m)
}
z <- qnorm(0.975)
risk_t <- 1 - exp(-rate * timepoint)
crit3 <- function(margin = 0.05) {
  gap <- function(u) {
    half <- z * sqrt(rate / (exp(u) * meanfup))
    lo <- 1 - exp(-(rate - half) * timepoint)
    hi <- 1 - exp(-(rate + half) * timepoint)
    max(risk_t - lo, hi - risk_t) - margin
  }
  exp(uniroot(gap, c(log(1), log(1e9)), tol = 1e-14, maxiter = 1000)$root)
}
s2 <- r2 / (r2 + 0.05 * max_r2)
n1 <- riley_n(p_cand, r2, 0.9)
n2 <- riley_n(p_cand, r2, s2)
n3 <- crit3()
ss <- list(candidate_parameters = p_cand, r2_cs = r2, events = events, rate_per_month = rate,
           mean_followup_months = meanfup, criterion1_n_exact = n1, criterion2_n_exact = n2,
           criterion3_n_exact = n3, criterion1_n = ceiling(n1), criterion2_n = ceiling(n2),
           criterion3_n = ceiling(n3), required_n = max(ceiling(c(n1, n2, n3))),
           events_per_parameter = events / p_cand, max_r2_cs = max_r2, n = n)

# ---- ridge penalty by leave-one-out cross-validated partial likelihood, standardised columns
X <- as.matrix(d[, terms])
Zs <- sweep(X, 2, apply(X, 2, sd), "/")
grid <- 10^(seq(-8, 12) / 4)
rctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
ll_at <- function(tt, ss, lp) coxph(Surv(tt, ss) ~ offset(lp))$loglik
cvl <- vapply(grid, function(theta) {
  tot <- 0
  for (i in seq_len(n)) {
    b <- coef(coxph(Surv(tm[-i], st[-i]) ~ ridge(Zs[-i, ], theta = theta, scale = FALSE), control = rctl))
    tot <- tot + ll_at(tm, st, drop(Zs %*% b)) - ll_at(tm[-i], st[-i], drop(Zs[-i, ] %*% b))
  }
  tot
}, 0)
penalty <- grid[which.max(cvl)]

# ---- continuous (rms::cph with splines) vs dichotomised model
cfit <- cph(Surv(os_months, os_event) ~ rcs(age, 3) + rcs(log10_ebv, 3) + chemo_cycles + immuno_cycles +
              multiple_lesions, data = d, eps = 1e-10, tol = 1e-11, iter.max = 100, x = TRUE, y = TRUE)
compare <- function(f, lp) {
  lrf <- 2 * diff(f$loglik)
  dff <- length(coef(f))
  cc <- concordance(Surv(tm, st) ~ lp, reverse = TRUE)$concordance
  dxy <- unname(rcorr.cens(-lp, Surv(tm, st))["Dxy"])
  list(lr_chi2 = lrf, df = dff, aic = -2 * f$loglik[2] + 2 * dff, c_index = unname(cc),
       c_index_rms = dxy / 2 + 0.5, loglik = f$loglik[2])
}
cmp <- list(continuous = compare(cfit, cfit$linear.predictors),
            dichotomised = compare(fit, fit$linear.predictors))
stopifnot(abs(cmp$continuous$lr_chi2 - unname(cfit$stats["Model L.R."])) < 1e-8,
          cmp$continuous$df == unname(cfit$stats["d.f."]))

# ---- utility at 12 and 24 months
horizons <- c(12, 24)
thresholds <- round(seq(0.05, 0.60, by = 0.05), 2)
S <- t(summary(survfit(fit, newdata = d), times = horizons)$surv)   # patients x horizons
km_at <- function(time, status, h) {
  if (h > max(time)) return(NA_real_)     # the treated patients' follow-up ends before h: not estimable
  summary(survfit(Surv(time, status) ~ 1), times = h)$surv
}
dca <- lapply(seq_along(horizons), function(j) {
  h <- horizons[j]
  risk <- 1 - S[, j]
  s_all <- km_at(tm, st, h)
  rows <- lapply(thresholds, function(p) {
    treated <- risk >= p
    x <- mean(treated)
    nb <- if (!any(treated)) 0 else {
      s <- km_at(tm[treated], st[treated], h)
      x * (1 - s) - x * s * p / (1 - p)
    }
    c(nb_model = nb, nb_all = (1 - s_all) - s_all * p / (1 - p), n_treated = sum(treated))
  })
  as.data.frame(do.call(rbind, rows))
})
sc <- Score(list(model = fit), formula = Surv(os_months, os_event) ~ 1, data = d, times = horizons,
            metrics = "brier", summary = "ipa", cens.model = "km", conf.int = FALSE)
b <- as.data.frame(sc$Brier$score)
brier <- b$Brier[b$model == "model"]
ipa <- b$IPA[b$model == "model"]
# the same scores on 1 - S from survfit.coxph (the risks the net benefit uses)
b_s <- as.data.frame(Score(list(model = 1 - S), formula = Surv(os_months, os_event) ~ 1, data = d,
                           times = horizons, metrics = "brier", summary = "ipa", cens.model = "km",
                           conf.int = FALSE)$Brier$score)
km24 <- summary(survfit(Surv(os_months, os_event) ~ 1, data = d), times = 24)$surv
oe_24 <- (1 - km24) / mean(1 - S[, 2])

# ---- JSON, written by hand
num <- function(x) ifelse(is.na(x), "null", sprintf("%.17g", x))
arr <- function(x) paste0("[", paste(num(x), collapse = ", "), "]")
obj <- function(l) paste0("{", paste(sprintf('"%s": %s', names(l), vapply(l, function(v)
  if (length(v) > 1) arr(v) else num(v), "")), collapse = ", "), "}")
dca_json <- paste(vapply(seq_along(horizons), function(j)
  sprintf('"%g": {"thresholds": %s, "nb_model": %s, "nb_all": %s, "n_treated": %s}', horizons[j],
          arr(thresholds), arr(dca[[j]]$nb_model), arr(dca[[j]]$nb_all), arr(dca[[j]]$n_treated)), ""),
  collapse = ", ")
json <- paste0(
  "{",
  sprintf('"n": %d, "terms": [%s], "coef": %s, "lr_chi2": %s, ', n, paste0('"', terms, '"', collapse = ", "),
          arr(unname(coef(fit))), num(lr)),
  sprintf('"sample_size": %s, ', obj(ss)),
  sprintf('"shrinkage": {"heuristic": %s, "penalty": %s, "grid": %s, "cvl": %s}, ', num(heuristic),
          num(penalty), arr(grid), arr(cvl)),
  sprintf('"continuous": %s, "dichotomised": %s, ', obj(cmp$continuous), obj(cmp$dichotomised)),
  sprintf('"continuous_terms": [%s], ', paste0('"', names(coef(cfit)), '"', collapse = ", ")),
  sprintf('"dca": {%s}, ', dca_json),
  sprintf('"brier": {"brier_12": %s, "brier_24": %s, "ipa_12": %s, "ipa_24": %s}, ',
          num(brier[1]), num(brier[2]), num(ipa[1]), num(ipa[2])),
  sprintf('"brier_on_survfit": {"brier": %s, "ipa": %s}, ', arr(b_s$Brier[b_s$model == "model"]),
          arr(b_s$IPA[b_s$model == "model"])),
  sprintf('"oe_24": %s, "km_24": %s, "expected_24": %s, ', num(oe_24), num(km24), num(mean(1 - S[, 2]))),
  sprintf('"versions": {"R": "%s", "survival": "%s", "rms": "%s", "riskRegression": "%s", "prodlim": "%s"}',
          paste(R.version$major, R.version$minor, sep = "."), as.character(packageVersion("survival")),
          as.character(packageVersion("rms")), as.character(packageVersion("riskRegression")),
          as.character(packageVersion("prodlim"))),
  "}\n")
cat(json, file = file.path("tests", "reference", "appraisal.json"))
