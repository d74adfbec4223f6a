# Reference for dmnpc.stats.utility (tests/stats/test_utility.py): Brier score and IPA
# (riskRegression::Score), decision-curve net benefit with the Kaplan-Meier definition of
# Vickers et al. (2008) written out below, and the observed/expected ratio, at 2 and 5 years.
# Data: survival::gbsg (tests/data/gbsg.csv), the 8-predictor Cox model of the other tests.
# Run from the repository root: Rscript tests/reference/ref_utility.R
suppressPackageStartupMessages({library(survival); library(riskRegression)})  # JSON by hand
d <- read.csv(file.path("tests", "data", "gbsg.csv"))
fit <- coxph(Surv(rfstime, status) ~ age + meno + size + grade + nodes + pgr + er + hormon,
             data = d, x = TRUE, y = TRUE, control = coxph.control(eps = 1e-10, iter.max = 100))
horizons <- 365.25 * c(2, 5)
thresholds <- seq(0.05, 0.60, by = 0.05)
# predicted survival S(t | x), Efron baseline (survfit.coxph); one column per horizon
S <- t(summary(survfit(fit, newdata = d), times = horizons)$surv)

# ---- Brier score and IPA: riskRegression's own implementation (reverse KM weights)
brier_of <- function(dat, risk, times) {
  sc <- Score(list(model = risk), formula = Surv(time, status) ~ 1, data = dat, times = times,
              metrics = "brier", summary = "ipa", cens.model = "km", conf.int = FALSE)
  b <- as.data.frame(sc$Brier$score)
  list(null = b$Brier[b$model == "Null model"], model = b$Brier[b$model == "model"],
       ipa = b$IPA[b$model == "model"])
}
dd <- data.frame(time = d$rfstime, status = d$status)
br <- brier_of(dd, 1 - S, horizons)
# Score on the fitted coxph itself (predictRisk) gives the same Brier as on 1 - S
br_fit <- as.data.frame(Score(list(model = fit), formula = Surv(rfstime, status) ~ 1, data = d,
                              times = horizons, metrics = "brier", cens.model = "km",
                              conf.int = FALSE)$Brier$score)
stopifnot(max(abs(br_fit$Brier[br_fit$model == "model"] - br$model)) < 1e-12)
# tiny data with a death and a censoring tied at t = 2, 3 and at the horizon t = 5:
# pins G(T_i-) for deaths, G(t) (censorings at t included) for survivors, deaths before
# censorings in the reverse Kaplan-Meier
tiny <- data.frame(time = c(1, 2, 2, 3, 3, 4, 5, 5, 6, 7), status = c(0, 1, 0, 1, 0, 1, 1, 0, 0, 1),
                   risk = c(0.1, 0.8, 0.3, 0.6, 0.2, 0.5, 0.4, 0.9, 0.1, 0.3))
br_tiny <- brier_of(tiny, matrix(tiny$risk, ncol = 1), 5)

# ---- net benefit, Kaplan-Meier definition (Vickers et al. 2008), written plainly
km_at <- function(time, status, h, extend) {
  # extend = FALSE: summary.survfit refuses a time after the last follow-up: NA
  if (!extend && h > max(time)) return(NA_real_)
  summary(survfit(Surv(time, status) ~ 1), times = h, extend = extend)$surv
}
net_benefit <- function(time, status, risk, h, thr, extend) {
  n <- length(time)
  pd_all <- 1 - km_at(time, status, h, TRUE)
  rows <- lapply(thr, function(p) {
    treated <- risk >= p
    x <- sum(treated) / n
    if (sum(treated) == 0) {
      nb <- 0
    } else {
      s <- km_at(time[treated], status[treated], h, extend)
      nb <- x * (1 - s) - x * s * p / (1 - p)
    }
    c(threshold = p, nb_model = nb, nb_all = pd_all - (1 - pd_all) * p / (1 - p),
      n_treated = sum(treated))
  })
  as.data.frame(do.call(rbind, rows))
}
nb <- lapply(seq_along(horizons), function(j)
  net_benefit(d$rfstime, d$status, 1 - S[, j], horizons[j], thresholds, FALSE))
nb_ext <- lapply(seq_along(horizons), function(j)
  net_benefit(d$rfstime, d$status, 1 - S[, j], horizons[j], thresholds, TRUE))
# tiny data in which the patients at highest risk are all censored before the horizon 4;
# one risk equals a threshold (0.3): risk >= threshold is treated
tiny_nb <- data.frame(time = c(1, 2, 3, 3.5, 4, 5, 6, 7), status = c(1, 0, 0, 0, 1, 0, 1, 0),
                      risk = c(0.3, 0.9, 0.8, 0.1, 0.2, 0.15, 0.4, 0.05))
nb_tiny <- net_benefit(tiny_nb$time, tiny_nb$status, tiny_nb$risk, 4, c(0.1, 0.3, 0.5, 0.95), FALSE)
nb_tiny_ext <- net_benefit(tiny_nb$time, tiny_nb$status, tiny_nb$risk, 4, c(0.1, 0.3, 0.5, 0.95), TRUE)

# ---- observed / expected at the horizon
km_all <- summary(survfit(Surv(rfstime, status) ~ 1, data = d), times = horizons)$surv
observed <- 1 - km_all
expected <- colMeans(1 - S)

# ---- JSON, written by hand
num <- function(x) paste0("[", paste(ifelse(is.na(x), "null", sprintf("%.17g", x)), collapse = ", "), "]")
nb_json <- function(tab) sprintf('{"threshold": %s, "nb_model": %s, "nb_all": %s, "n_treated": %s}',
                                 num(tab$threshold), num(tab$nb_model), num(tab$nb_all), num(tab$n_treated))
json <- paste0(
  "{",
  sprintf('"terms": ["age", "meno", "size", "grade", "nodes", "pgr", "er", "hormon"], "coef": %s, ',
          num(unname(coef(fit)))),
  sprintf('"horizons": %s, "thresholds": %s, ', num(horizons), num(thresholds)),
  sprintf('"surv": [%s], ', paste(apply(S, 2, num), collapse = ", ")),
  sprintf('"brier": %s, "brier_null": %s, "ipa": %s, ', num(br$model), num(br$null), num(br$ipa)),
  sprintf('"tiny_brier": {"time": %s, "status": %s, "risk": %s, "horizon": 5, "brier": %s, "brier_null": %s, "ipa": %s}, ',
          num(tiny$time), num(tiny$status), num(tiny$risk), num(br_tiny$model), num(br_tiny$null),
          num(br_tiny$ipa)),
  sprintf('"net_benefit": [%s], ', paste(vapply(nb, nb_json, ""), collapse = ", ")),
  sprintf('"net_benefit_extend": [%s], ', paste(vapply(nb_ext, nb_json, ""), collapse = ", ")),
  sprintf('"tiny_nb": {"time": %s, "status": %s, "risk": %s, "horizon": 4, "no_extend": %s, "extend": %s}, ',
          num(tiny_nb$time), num(tiny_nb$status), num(tiny_nb$risk), nb_json(nb_tiny), nb_json(nb_tiny_ext)),
  sprintf('"observed": %s, "expected": %s, "oe": %s, ', num(observed), num(expected), num(observed / expected)),
  sprintf('"versions": {"R": "%s", "survival": "%s", "riskRegression": "%s", "prodlim": "%s"}',
          paste(R.version$major, R.version$minor, sep = "."), as.character(packageVersion("survival")),
          as.character(packageVersion("riskRegression")), as.character(packageVersion("prodlim"))),
  "}\n")
cat(json, file = file.path("tests", "reference", "utility.json"))
