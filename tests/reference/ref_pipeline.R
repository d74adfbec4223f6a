# Reference for dmnpc.stats.pipeline / dmnpc.paper.appraisal (tests/paper/test_appraisal.py):
# the paper's OS development procedure, bootstrapped as a whole, in R, on the synthetic twin
# (data/twin/dmnpc_twin.csv = dmnpc.paper.contract.DEFAULT_COHORT).
#
# Procedure (one bootstrap sample, or the original data):
#   1. Youden cuts (pROC midpoint; ties -> highest sensitivity) of EBV DNA (direction "<":
#      ebv_dna_high = ebv_dna > cut) and immunotherapy cycles (">": immuno_cycles_low = cycles < cut)
#      against os_event; age >= 50 and chemotherapy < 6 cycles keep the paper's fixed cuts;
#   2. univariable coxph per candidate on the patients who have it, kept when Wald P < 0.05;
#      not estimable (constant, no deaths, coxph's "may be infinite" or "did not converge" warning) -> not kept;
#   3. multivariable coxph of the kept terms (complete cases, na.omit; aliased terms NA -> dropped);
#      a fit with either of those warnings is "failed" and refitted with
#      ridge(..., theta = 0.181, scale = FALSE) (dmnpc.stats.validation.RIDGE_THETA);
#   4. C (survival::concordance, reverse = TRUE) on the sample and on the original data; calibration
#      slope (coxph of the original outcome on the replicate's lp); predicted 2-year OS
#      exp(-H0(24) exp(lp)) with H0 the sample's Efron baseline; risk group = lp > sample mean.
# Variants: "screen" (all 16 candidates of Suppl. Table S1), "screen_no_lrrt" (without LRRT),
# "fixed_terms" (the paper's 5 terms, only the two cuts re-derived).
#
# Two implementations of the same procedure: engine = "plain" (pROC::coords, coxph on the resampled
# rows, concordance, basehaz) and engine = "tuned" (own Youden search on frequencies, survival's coxph.fit
# on the resampled rows of the model matrix -- coxph's Efron ties with case weights differ from those
# of repeated rows, which the bootstrap sample is -- and concordancefit with the frequencies as case
# weights, a baseline hazard by hand). This script
# checks that both give the same per-replicate results, then writes the plain loop's results.
# benchmarks/bench_pipeline.py sources this file (PIPELINE_REF_NO_MAIN=1) to time both loops.
#
# Run from the repository root:  Rscript tests/reference/ref_pipeline.R
# JSON is written by hand (sprintf): no jsonlite needed.
suppressPackageStartupMessages({library(survival); library(pROC)})

THETA <- (qnorm(0.975) / log(100))^2  # dmnpc.stats.validation.RIDGE_THETA
HORIZON <- 24
# up to 50 Newton iterations, as dmnpc.stats.cox.fit_cox (MAX_ITER): coxph's default 20 stops short of a
# finite maximum in some samples (one ECOG-0 patient drawn many times) and would call them failed
CTL <- coxph.control(iter.max = 50)
SCREEN_TERMS <- c("age_high", "female", "ecog_ge1", "t3_4", "n2_3", "ebv_dna_high", "multi_organ_mets",
                  "multiple_lesions", "liver_mets", "bone_mets", "lung_mets", "ldh_high", "chemo_cycles_low",
                  "immuno_cycles_low", "local_tx_mets", "no_lrrt")
OS_TERMS <- c("age_high", "ebv_dna_high", "multiple_lesions", "chemo_cycles_low", "immuno_cycles_low")
MARKERS <- list(ebv_dna_high = list(col = "ebv_dna", dir = "<"), immuno_cycles_low = list(col = "immuno_cycles", dir = ">"))

load_twin <- function() read.csv(file.path("data", "twin", "dmnpc_twin.csv"), stringsAsFactors = FALSE)

variant_spec <- function(variant) {
  switch(variant,
         screen = list(cand = SCREEN_TERMS, alpha = 0.05),
         screen_no_lrrt = list(cand = setdiff(SCREEN_TERMS, "no_lrrt"), alpha = 0.05),
         fixed_terms = list(cand = OS_TERMS, alpha = NA))
}

# candidate columns of the original patients under given cuts (ldh_high NA where LDH is missing)
design <- function(d, cuts) {
  data.frame(
    age_high = as.numeric(d$age >= 50), female = as.numeric(d$sex == "female"), ecog_ge1 = as.numeric(d$ecog >= 1),
    t3_4 = as.numeric(d$t_stage %in% c("T3", "T4")), n2_3 = as.numeric(d$n_stage %in% c("N2", "N3")),
    ebv_dna_high = as.numeric(d$ebv_dna > cuts[["ebv_dna_high"]]), multi_organ_mets = as.numeric(d$multi_organ_mets),
    multiple_lesions = as.numeric(d$met_lesions == "multiple"), liver_mets = as.numeric(d$liver_mets),
    bone_mets = as.numeric(d$bone_mets), lung_mets = as.numeric(d$lung_mets), ldh_high = as.numeric(d$ldh >= 250),
    chemo_cycles_low = as.numeric(d$chemo_cycles < 6), immuno_cycles_low = as.numeric(d$immuno_cycles < cuts[["immuno_cycles_low"]]),
    local_tx_mets = as.numeric(d$local_tx_mets), no_lrrt = as.numeric(1 - d$lrrt))
}

# ------------------------------------------------------------------ Youden cut
youden_plain <- function(m, y, dir) {
  r <- roc(y, m, levels = c(0, 1), direction = dir, quiet = TRUE)
  b <- coords(r, "best", best.method = "youden", ret = c("threshold", "sensitivity"), transpose = FALSE)
  b$threshold[which.max(b$sensitivity)]  # ties: the highest sensitivity (pROC's first)
}

youden_tuned <- function(m, y, w, dir) {
  keep <- w > 0
  u <- sort(unique(m[keep]))
  k <- match(m[keep], u)
  case <- tabulate(rep(k, w[keep] * y[keep]), length(u))
  ctrl <- tabulate(rep(k, w[keep] * (1 - y[keep])), length(u))
  Cc <- c(0, cumsum(case)); Ct <- c(0, cumsum(ctrl)); nca <- sum(case); nco <- sum(ctrl)
  if (dir == "<") { tp <- nca - Cc; tn <- Ct } else { tp <- Cc; tn <- nco - Ct }
  crit <- tp * nco + tn * nca
  best <- which(crit == max(crit))
  s <- if (dir == "<") min(best) else max(best)  # split after the (s-1)th distinct value
  thr <- c(-Inf, (u[-1] + u[-length(u)]) / 2, Inf)
  thr[s]
}

# ------------------------------------------------------------------ fits
# a Cox fit that reports coxph's warnings of an infinite coefficient or of no convergence (both: no finite
# maximum found) instead of printing them
quiet_fit <- function(expr) {
  inf <- FALSE
  val <- withCallingHandlers(expr, warning = function(w) {
    if (grepl("infinite|converge", conditionMessage(w))) inf <<- TRUE
    invokeRestart("muffleWarning")
  })
  list(fit = val, infinite = inf)
}

fit_plain <- function(dd, terms) {
  f <- as.formula(paste("Surv(os_months, os_event) ~", paste(terms, collapse = " + ")))
  quiet_fit(coxph(f, data = dd, control = CTL))
}

fit_tuned <- function(X, t, e, w) {
  quiet_fit(coxph.fit(X, Surv(t, e), strata = NULL, offset = NULL, init = NULL, control = CTL,
                      weights = w, method = "efron", rownames = NULL))
}

ridge_fit <- function(dd, terms, w = NULL) {
  f <- as.formula(paste("Surv(os_months, os_event) ~ ridge(", paste(terms, collapse = ", "),
                        ", theta = THETA, scale = FALSE)"))
  cf <- if (is.null(w)) coef(coxph(f, data = dd)) else coef(coxph(f, data = dd, weights = w))
  unname(cf)
}

# Efron baseline cumulative hazard at the horizon (lp = 0), frequency weights w
efron_H0 <- function(t, e, lp, w, horizon) {
  r <- w * exp(lp)
  dt <- sort(unique(t[e == 1 & w > 0 & t <= horizon + 1e-6]))
  H <- 0
  for (s in dt) {
    R <- sum(r[t >= s]); D <- sum(r[t == s & e == 1]); dd <- sum(w[t == s & e == 1])
    H <- H + sum(1 / (R - (0:(dd - 1)) / dd * D))
  }
  H
}

# ------------------------------------------------------------------ one development
# d: original data; w: bootstrap frequencies (all 1 = the original data)
develop <- function(d, w, variant, engine) {
  sp <- variant_spec(variant)
  cand <- sp$cand
  idx <- rep(seq_len(nrow(d)), w)
  cuts <- c(ebv_dna_high = NA, immuno_cycles_low = NA)
  for (tm in names(MARKERS)) {
    mk <- MARKERS[[tm]]
    cuts[[tm]] <- if (engine == "plain") youden_plain(d[[mk$col]][idx], d$os_event[idx], mk$dir)
                  else youden_tuned(d[[mk$col]], d$os_event, w, mk$dir)
  }
  X <- design(d, cuts)[, cand, drop = FALSE]
  t <- d$os_months; e <- d$os_event
  p <- setNames(rep(NA_real_, length(cand)), cand)
  if (is.na(sp$alpha)) {
    sel <- cand
  } else {
    for (k in cand) {
      ok <- !is.na(X[[k]]) & w > 0
      x <- X[[k]][ok]
      if (length(unique(x)) < 2 || sum(e[ok] * w[ok]) == 0) next
      if (engine == "plain") {
        dd <- data.frame(os_months = t[idx], os_event = e[idx], x = X[[k]][idx])
        ft <- fit_plain(dd, "x")
        if (!ft$infinite) p[[k]] <- summary(ft$fit)$coefficients[1, "Pr(>|z|)"]
      } else {
        ii <- idx[ok[idx]]  # resampled rows: coxph's Efron ties with case weights are not those of repeated rows
        ft <- fit_tuned(matrix(X[[k]][ii]), t[ii], e[ii], NULL)
        if (!ft$infinite) p[[k]] <- 2 * pnorm(-abs(ft$fit$coefficients / sqrt(ft$fit$var[1, 1])))
      }
    }
    sel <- cand[!is.na(p) & p < sp$alpha]
  }
  cc <- if (length(sel)) complete.cases(X[, sel, drop = FALSE]) else rep(TRUE, nrow(d))
  coef <- numeric(0); failed <- FALSE; fit <- NULL
  if (length(sel)) {
    if (engine == "plain") {
      dd <- cbind(data.frame(os_months = t, os_event = e), X)[idx, ]
      ft <- fit_plain(dd, sel)
      b <- coef(ft$fit)
    } else {
      ii <- idx[cc[idx]]
      ft <- fit_tuned(as.matrix(X[ii, sel, drop = FALSE]), t[ii], e[ii], NULL)
      b <- ft$fit$coefficients
    }
    keep <- !is.na(b)  # aliased terms: NA in coxph -> dropped (the other coefficients are those without them)
    sel <- sel[keep]
    failed <- ft$infinite
    coef <- unname(b[keep])
    if (failed) {
      dd <- cbind(data.frame(os_months = t, os_event = e), X)
      coef <- ridge_fit(dd[idx, ][cc[idx], ], sel)
    }
    fit <- if (engine == "plain" && !failed) ft$fit else NULL
  }
  evaluate(d, w, cuts, X, sel, coef, failed, p, cc, engine, if (length(sel)) fit else NULL)
}

evaluate <- function(d, w, cuts, X, sel, coef, failed, p, cc, engine, fit = NULL) {
  t <- d$os_months; e <- d$os_event
  lp <- if (length(sel)) as.vector(as.matrix(X[, sel, drop = FALSE]) %*% coef) else rep(0, nrow(d))
  lp[!cc] <- 0  # no prediction there (weight 0 below, NA in pred and high)
  wt <- w * cc
  if (length(sel)) {
    if (engine == "plain") {
      idx <- rep(which(cc), w[cc])
      c_train <- concordance(Surv(t[idx], e[idx]) ~ lp[idx], reverse = TRUE)$concordance
      c_test <- concordance(Surv(t[cc], e[cc]) ~ lp[cc], reverse = TRUE)$concordance
    } else {
      c_train <- concordancefit(Surv(t[wt > 0], e[wt > 0]), lp[wt > 0], weights = wt[wt > 0], reverse = TRUE)$concordance
      c_test <- concordancefit(Surv(t[cc], e[cc]), lp[cc], reverse = TRUE)$concordance
    }
    c_train <- unname(c_train); c_test <- unname(c_test)
    slope <- if (diff(range(lp[cc])) > 0) {
      if (engine == "plain") unname(coef(coxph(Surv(t[cc], e[cc]) ~ lp[cc])))
      else unname(coxph.fit(matrix(lp[cc]), Surv(t[cc], e[cc]), NULL, NULL, NULL, coxph.control(), NULL,
                            "efron", NULL)$coefficients)
    } else NA
  } else {
    c_train <- 0.5; c_test <- 0.5; slope <- NA
  }
  H0 <- if (!is.null(fit)) {  # plain: survival's own baseline (survfit.coxph), else by hand
    bh <- basehaz(fit, centered = FALSE)
    max(c(0, bh$hazard[bh$time <= HORIZON + 1e-6]))
  } else efron_H0(t, e, lp, wt, HORIZON)
  pred <- ifelse(cc, exp(-H0 * exp(lp)), NA)
  thr <- sum(wt * lp) / sum(wt)
  high <- ifelse(cc, as.numeric(lp > thr + 1e-9 * (1 + abs(thr))), NA)
  list(cuts = cuts, p = p, terms = sel, coef = coef, failed = failed, c_train = c_train, c_test = c_test,
       slope = slope, pred = pred, high = high, lp = lp)
}

# ------------------------------------------------------------------ the bootstrap loop
run_pipeline <- function(d, B, variant, engine, seed = 20240217) {
  set.seed(seed)
  n <- nrow(d)
  app <- develop(d, rep(1L, n), variant, engine)
  cand <- variant_spec(variant)$cand
  reps <- vector("list", B)
  for (b in seq_len(B)) {
    w <- tabulate(sample.int(n, n, replace = TRUE), n)
    r <- develop(d, w, variant, engine)
    ch <- !is.na(r$high) & !is.na(app$high)
    reps[[b]] <- list(c_train = r$c_train, c_test = r$c_test, slope = r$slope, failed = r$failed,
                      n_terms = length(r$terms), selected = as.numeric(cand %in% r$terms),
                      cut_ebv = r$cuts[["ebv_dna_high"]], cut_immuno = r$cuts[["immuno_cycles_low"]],
                      mape = mean(abs(r$pred - app$pred), na.rm = TRUE), reclassified = mean(r$high[ch] != app$high[ch]))
  }
  list(app = app, reps = reps, cand = cand)
}

# ------------------------------------------------------------------ JSON by hand
# NA -> null; +-Inf (a cut where no split beats calling everyone positive) -> Infinity, as Python's json reads it
num <- function(x) paste0("[", paste(ifelse(is.na(x), "null", ifelse(is.infinite(x), ifelse(x > 0, "Infinity", "-Infinity"),
                                                                   sprintf("%.17g", x))), collapse = ", "), "]")
str_arr <- function(x) paste0("[", paste(sprintf('"%s"', x), collapse = ", "), "]")
col <- function(reps, k) vapply(reps, function(r) as.numeric(r[[k]]), 0)

variant_json <- function(res) {
  a <- res$app
  reps <- res$reps
  sel <- do.call(rbind, lapply(reps, `[[`, "selected"))
  sel_json <- paste(sprintf('"%s": %s', res$cand, apply(sel, 2, num)), collapse = ", ")
  app_json <- sprintf(paste0('{"cuts": {"ebv_dna": %.17g, "immuno_cycles": %.17g}, "terms": %s, "coef": %s, ',
                             '"failed": %s, "c": %.17g, "screen_candidates": %s, "screen_p": %s, "pred24": %s, "high": %s}'),
                      a$cuts[["ebv_dna_high"]], a$cuts[["immuno_cycles_low"]], str_arr(a$terms), num(a$coef),
                      tolower(a$failed), a$c_train, str_arr(names(a$p)), num(a$p), num(a$pred), num(a$high))
  rep_json <- paste(sprintf('"%s": %s', c("c_train", "c_test", "slope", "failed", "n_terms", "cut_ebv_dna",
                                           "cut_immuno_cycles", "mape", "reclassified"),
                            c(num(col(reps, "c_train")), num(col(reps, "c_test")), num(col(reps, "slope")),
                              num(col(reps, "failed")), num(col(reps, "n_terms")), num(col(reps, "cut_ebv")),
                              num(col(reps, "cut_immuno")), num(col(reps, "mape")), num(col(reps, "reclassified")))),
                    collapse = ", ")
  sprintf('{"apparent": %s, "replicates": {%s, "selected": {%s}}}', app_json, rep_json, sel_json)
}

if (Sys.getenv("PIPELINE_REF_NO_MAIN") != "1") {
  d <- load_twin()
  B <- 200
  variants <- c("screen", "screen_no_lrrt", "fixed_terms")
  out <- character(0)
  for (v in variants) {
    secs <- system.time(res <- run_pipeline(d, B, v, "plain"))[["elapsed"]]
    # the tuned loop is the same procedure: same samples, same per-replicate results
    tun <- run_pipeline(d, 20, v, "tuned")
    pla <- list(reps = res$reps[1:20])
    for (k in c("c_train", "c_test", "slope", "failed", "n_terms", "cut_ebv", "cut_immuno", "mape", "reclassified")) {
      a <- col(pla$reps, k); b <- col(tun$reps, k)
      if (!isTRUE(all.equal(a, b, tolerance = 1e-6))) stop(sprintf("%s: tuned and plain loops differ in %s", v, k))
    }
    cat(sprintf("%s: B = %d in %.1f s (plain loop); tuned loop agrees on 20 replicates\n", v, B, secs))
    out <- c(out, sprintf('"%s": %s', v, variant_json(res)))
  }
  json <- sprintf('{"B": %d, "seed": 20240217, "theta": %.17g, "versions": {"survival": "%s", "pROC": "%s", "R": "%s"}, "variants": {%s}}\n',
                  B, THETA, as.character(packageVersion("survival")), as.character(packageVersion("pROC")),
                  paste(R.version$major, R.version$minor, sep = "."), paste(out, collapse = ", "))
  cat(json, file = file.path("tests", "reference", "pipeline.json"))
}
