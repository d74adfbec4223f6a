# Reference for dmnpc.stats.subgroup_sim / dmnpc.paper.simulation (tests/paper/test_simulation.py):
# one replicate of the subgroup-roulette simulation -- the paper's development procedure, the split at
# the mean score and the LRRT comparison within each risk cohort -- in R, on fixed simulated studies
# exported by the Python (tests/data/sim_studies.csv, written by dmnpc.paper.simulation.reference_studies;
# column `study` numbers them).
#
# Procedure (the "screen_no_lrrt" reading, as dmnpc.paper.simulation.SIM_VARIANT):
#   1. Youden cuts (pROC::coords "best", youden; ties -> highest sensitivity) of EBV DNA (direction "<":
#      ebv_dna_high = ebv_dna > cut) and immunotherapy cycles (">": immuno_cycles_low = cycles < cut)
#      against os_event;
#   2. univariable coxph per candidate (every Suppl. Table S1 variable but LRRT) on the patients who have it,
#      kept when its Wald P < 0.05; constant, no deaths, or coxph's "infinite"/"converge" warning -> not kept;
#   3. multivariable coxph of the kept terms (complete cases; NA = aliased -> dropped); a fit with either
#      warning is "failed" and refitted with ridge(..., theta = 0.181, scale = FALSE);
#   4. high risk = lp > mean lp of the complete cases (+ 1e-9 (1 + |mean|)); no risk group without a kept term;
#   5. within each cohort: coxph(Surv ~ no_lrrt), HR without vs with LRRT, Wald 95% CI and P
#      (dmnpc.stats.subgroup.hr_by_stratum); not estimable: empty, one arm, an arm without deaths,
#      or coxph's warning (no finite maximum).
# The simulated times are continuous (no ties), so Efron = Breslow = exact partial likelihood.
#
# benchmarks/bench_simulation.py sources this file (SIMULATION_REF_NO_MAIN=1) and loops sim_study() +
# sim_pipeline() over replicates of the same data-generating model (exported by the Python).
#
# Run from the repository root:  Rscript tests/reference/ref_simulation.R
# After a change of the data-generating model, first rewrite the studies (tests/paper/test_simulation.py
# checks the CSV is what the code simulates):
#   PYTHONPATH=. .venv/bin/python -c "from dmnpc.paper import contract, simulation as S; \
#     S.reference_studies(contract.load_cohort(contract.DEFAULT_COHORT)).to_csv('tests/data/sim_studies.csv', index=False)"
# JSON is written by hand (sprintf): no jsonlite needed.
suppressPackageStartupMessages({library(survival); library(pROC)})

SIM_THETA <- (qnorm(0.975) / log(100))^2  # dmnpc.stats.validation.RIDGE_THETA
SIM_CTL <- coxph.control(iter.max = 50)
SIM_FIXED <- c("age_high", "female", "ecog_ge1", "t3_4", "n2_3", "multi_organ_mets", "multiple_lesions",
               "liver_mets", "bone_mets", "lung_mets", "ldh_high", "chemo_cycles_low", "local_tx_mets")
SIM_CAND <- c("age_high", "female", "ecog_ge1", "t3_4", "n2_3", "ebv_dna_high", "multi_organ_mets",
              "multiple_lesions", "liver_mets", "bone_mets", "lung_mets", "ldh_high", "chemo_cycles_low",
              "immuno_cycles_low", "local_tx_mets")

sim_youden <- function(m, y, dir) {
  r <- roc(y, m, levels = c(0, 1), direction = dir, quiet = TRUE)
  b <- coords(r, "best", best.method = "youden", ret = c("threshold", "sensitivity"), transpose = FALSE)
  b$threshold[which.max(b$sensitivity)]  # ties: the highest sensitivity (pROC's first)
}

sim_quiet <- function(expr) {
  inf <- FALSE
  val <- withCallingHandlers(expr, warning = function(w) {
    if (grepl("infinite|converge", conditionMessage(w))) inf <<- TRUE
    invokeRestart("muffleWarning")
  })
  list(fit = val, infinite = inf)
}

# the same cut without pROC: cumulative counts over the distinct values (as ref_pipeline.R's youden_tuned)
sim_youden_tuned <- function(m, y, dir) {
  u <- sort(unique(m))
  k <- match(m, u)
  case <- tabulate(k[y == 1], length(u)); ctrl <- tabulate(k[y == 0], length(u))
  Cc <- c(0, cumsum(case)); Ct <- c(0, cumsum(ctrl)); nca <- sum(case); nco <- sum(ctrl)
  if (dir == "<") { tp <- nca - Cc; tn <- Ct } else { tp <- Cc; tn <- nco - Ct }
  crit <- tp * nco + tn * nca
  best <- which(crit == max(crit))
  s <- if (dir == "<") min(best) else max(best)
  c(-Inf, (u[-1] + u[-length(u)]) / 2, Inf)[s]
}

# a Cox fit on a model matrix (survival's coxph.fit, Efron): list(coef, se, infinite)
sim_fit_tuned <- function(x, t, e) {
  ft <- sim_quiet(coxph.fit(as.matrix(x), Surv(t, e), strata = NULL, offset = NULL, init = NULL, control = SIM_CTL,
                            weights = NULL, method = "efron", rownames = NULL))
  list(coef = ft$fit$coefficients, se = sqrt(diag(as.matrix(ft$fit$var))), infinite = ft$infinite)
}

# d: one simulated study (SIM_FIXED columns, ebv_dna, immuno_cycles, lrrt, os_months, os_event).
# engine "plain": pROC and coxph formulas (the reference); "tuned": own Youden search and coxph.fit on
# model matrices (the same procedure, faster; checked equal below)
sim_pipeline <- function(d, engine = "plain") {
  if (engine == "tuned") return(sim_pipeline_tuned(d))
  cuts <- c(ebv_dna_high = sim_youden(d$ebv_dna, d$os_event, "<"),
            immuno_cycles_low = sim_youden(d$immuno_cycles, d$os_event, ">"))
  X <- d[, SIM_FIXED]
  X$ebv_dna_high <- as.numeric(d$ebv_dna > cuts[["ebv_dna_high"]])
  X$immuno_cycles_low <- as.numeric(d$immuno_cycles < cuts[["immuno_cycles_low"]])
  X <- X[, SIM_CAND]
  t <- d$os_months; e <- d$os_event
  p <- setNames(rep(NA_real_, length(SIM_CAND)), SIM_CAND)
  for (k in SIM_CAND) {
    ok <- !is.na(X[[k]])
    x <- X[[k]][ok]
    if (length(unique(x)) < 2 || sum(e[ok]) == 0) next
    ft <- sim_quiet(coxph(Surv(t[ok], e[ok]) ~ x, control = SIM_CTL))
    if (!ft$infinite) p[[k]] <- summary(ft$fit)$coefficients[1, "Pr(>|z|)"]
  }
  sel <- SIM_CAND[!is.na(p) & p < 0.05]
  cc <- if (length(sel)) complete.cases(X[, sel, drop = FALSE]) else rep(TRUE, nrow(d))
  coef <- numeric(0); failed <- FALSE
  if (length(sel)) {
    dd <- cbind(data.frame(os_months = t, os_event = e), X)[cc, ]
    f <- as.formula(paste("Surv(os_months, os_event) ~", paste(sel, collapse = " + ")))
    ft <- sim_quiet(coxph(f, data = dd, control = SIM_CTL))
    b <- coef(ft$fit)
    sel <- sel[!is.na(b)]
    coef <- unname(b[!is.na(b)])
    failed <- ft$infinite
    if (failed) {
      fr <- as.formula(paste("Surv(os_months, os_event) ~ ridge(", paste(sel, collapse = ", "),
                             ", theta = SIM_THETA, scale = FALSE)"))
      coef <- unname(coef(coxph(fr, data = dd)))
    }
    lp <- as.vector(as.matrix(X[, sel, drop = FALSE]) %*% coef)
    thr <- mean(lp[cc])
    high <- ifelse(cc, as.numeric(lp > thr + 1e-9 * (1 + abs(thr))), NA)
  } else {
    thr <- 0
    high <- rep(0, nrow(d))
  }
  groups <- list()
  for (g in c("high", "low")) {
    inside <- !is.na(high) & high == (g == "high")
    ti <- t[inside]; ei <- e[inside]; u <- 1 - d$lrrt[inside]
    r <- list(n = sum(inside), treated = sum(u == 0), deaths = sum(ei), hr = NA, lower = NA, upper = NA, p = NA,
              why = "")
    if (!any(inside)) r$why <- "empty"
    else if (length(unique(u)) < 2) r$why <- "one_arm"
    else if (sum(ei[u == 1]) == 0 || sum(ei[u == 0]) == 0) r$why <- "arm_no_deaths"
    else {
      ft <- sim_quiet(coxph(Surv(ti, ei) ~ u, control = SIM_CTL))
      if (ft$infinite) r$why <- "monotone"
      else {
        s <- summary(ft$fit)$coefficients
        b <- s[1, "coef"]; se <- s[1, "se(coef)"]
        r$hr <- exp(b); r$lower <- exp(b - qnorm(0.975) * se); r$upper <- exp(b + qnorm(0.975) * se)
        r$p <- s[1, "Pr(>|z|)"]
      }
    }
    groups[[g]] <- r
  }
  pattern <- !is.na(groups$high$p) && groups$high$p < 0.05 && groups$high$hr > 1 &&
             !(!is.na(groups$low$p) && groups$low$p < 0.05)
  list(cuts = cuts, p = p, terms = sel, coef = coef, failed = failed, threshold = thr, high = high,
       groups = groups, pattern = pattern)
}

sim_pipeline_tuned <- function(d) {
  cuts <- c(ebv_dna_high = sim_youden_tuned(d$ebv_dna, d$os_event, "<"),
            immuno_cycles_low = sim_youden_tuned(d$immuno_cycles, d$os_event, ">"))
  X <- as.matrix(d[, SIM_FIXED])
  X <- cbind(X, ebv_dna_high = as.numeric(d$ebv_dna > cuts[["ebv_dna_high"]]),
             immuno_cycles_low = as.numeric(d$immuno_cycles < cuts[["immuno_cycles_low"]]))[, SIM_CAND]
  t <- d$os_months; e <- d$os_event
  p <- setNames(rep(NA_real_, length(SIM_CAND)), SIM_CAND)
  for (k in SIM_CAND) {
    ok <- !is.na(X[, k])
    x <- X[ok, k]
    if (length(unique(x)) < 2 || sum(e[ok]) == 0) next
    ft <- sim_fit_tuned(x, t[ok], e[ok])
    if (!ft$infinite) p[[k]] <- 2 * pnorm(-abs(ft$coef / ft$se))
  }
  sel <- SIM_CAND[!is.na(p) & p < 0.05]
  cc <- if (length(sel)) complete.cases(X[, sel, drop = FALSE]) else rep(TRUE, nrow(d))
  coef <- numeric(0); failed <- FALSE
  if (length(sel)) {
    ft <- sim_fit_tuned(X[cc, sel, drop = FALSE], t[cc], e[cc])
    b <- ft$coef
    sel <- sel[!is.na(b)]
    coef <- unname(b[!is.na(b)])
    failed <- ft$infinite
    if (failed) {
      dd <- cbind(data.frame(os_months = t, os_event = e), X)[cc, ]
      fr <- as.formula(paste("Surv(os_months, os_event) ~ ridge(", paste(sel, collapse = ", "),
                             ", theta = SIM_THETA, scale = FALSE)"))
      coef <- unname(coef(coxph(fr, data = dd)))
    }
    lp <- as.vector(X[, sel, drop = FALSE] %*% coef)
    thr <- mean(lp[cc])
    high <- ifelse(cc, as.numeric(lp > thr + 1e-9 * (1 + abs(thr))), NA)
  } else {
    thr <- 0
    high <- rep(0, nrow(d))
  }
  groups <- list()
  for (g in c("high", "low")) {
    inside <- !is.na(high) & high == (g == "high")
    ti <- t[inside]; ei <- e[inside]; u <- 1 - d$lrrt[inside]
    r <- list(n = sum(inside), treated = sum(u == 0), deaths = sum(ei), hr = NA, lower = NA, upper = NA, p = NA,
              why = "")
    if (!any(inside)) r$why <- "empty"
    else if (length(unique(u)) < 2) r$why <- "one_arm"
    else if (sum(ei[u == 1]) == 0 || sum(ei[u == 0]) == 0) r$why <- "arm_no_deaths"
    else {
      ft <- sim_fit_tuned(matrix(u), ti, ei)
      if (ft$infinite) r$why <- "monotone"
      else {
        b <- unname(ft$coef); se <- unname(ft$se)
        r$hr <- exp(b); r$lower <- exp(b - qnorm(0.975) * se); r$upper <- exp(b + qnorm(0.975) * se)
        r$p <- 2 * pnorm(-abs(b / se))
      }
    }
    groups[[g]] <- r
  }
  pattern <- !is.na(groups$high$p) && groups$high$p < 0.05 && groups$high$hr > 1 &&
             !(!is.na(groups$low$p) && groups$low$p < 0.05)
  list(cuts = cuts, p = p, terms = sel, coef = coef, failed = failed, threshold = thr, high = high,
       groups = groups, pattern = pattern)
}

# one study of the data-generating model (benchmark): m = the model's cohort table (SIM_FIXED, ebv_dna,
# immuno_cycles, lrrt, eta), par = list(shape, rate, censor_min, censor_upper, true_hr, lrrt_share, random, n)
sim_study <- function(m, par) {
  n <- par$n
  rows <- sample.int(nrow(m), n, replace = TRUE)
  u <- runif(n)
  E <- rexp(n)
  C <- runif(n, par$censor_min, par$censor_upper)
  d <- m[rows, ]
  if (par$random) d$lrrt <- as.numeric(u < par$lrrt_share)
  lam <- par$rate * exp(d$eta + log(par$true_hr) * d$lrrt)
  T <- (E / lam)^(1 / par$shape)
  d$os_months <- pmin(T, C)
  d$os_event <- as.numeric(T <= C)
  d
}

# ------------------------------------------------------------------ JSON by hand
sim_num <- function(x) paste0("[", paste(ifelse(is.na(x), "null", ifelse(is.infinite(x), ifelse(x > 0, "Infinity", "-Infinity"),
                                                                       sprintf("%.17g", x))), collapse = ", "), "]")
sim_val <- function(x) if (is.na(x)) "null" else sprintf("%.17g", x)
sim_str <- function(x) paste0("[", paste(sprintf('"%s"', x), collapse = ", "), "]")

sim_json <- function(res) {
  gj <- vapply(names(res$groups), function(g) {
    r <- res$groups[[g]]
    sprintf('"%s": {"n": %d, "treated": %d, "deaths": %d, "hr": %s, "lower": %s, "upper": %s, "p": %s, "why": "%s"}',
            g, r$n, r$treated, r$deaths, sim_val(r$hr), sim_val(r$lower), sim_val(r$upper), sim_val(r$p), r$why)
  }, "")
  sprintf(paste0('{"cuts": {"ebv_dna_high": %.17g, "immuno_cycles_low": %.17g}, "screen_candidates": %s, ',
                 '"screen_p": %s, "terms": %s, "coef": %s, "failed": %s, "threshold": %.17g, "high": %s, ',
                 '"groups": {%s}, "pattern": %s}'),
          res$cuts[["ebv_dna_high"]], res$cuts[["immuno_cycles_low"]], sim_str(names(res$p)), sim_num(res$p),
          sim_str(res$terms), sim_num(res$coef), tolower(res$failed), res$threshold, sim_num(res$high),
          paste(gj, collapse = ", "), tolower(res$pattern))
}

if (Sys.getenv("SIMULATION_REF_NO_MAIN") != "1") {
  all <- read.csv(file.path("tests", "data", "sim_studies.csv"))
  studies <- sort(unique(all$study))
  out <- vapply(studies, function(s) {
    d <- all[all$study == s, ]
    res <- sim_pipeline(d)
    # the tuned engine is the same procedure: same results (the benchmark times it)
    tun <- sim_pipeline(d, "tuned")
    same <- isTRUE(all.equal(res$cuts, tun$cuts)) && isTRUE(all.equal(unname(res$p), unname(tun$p), tolerance = 1e-6)) &&
      identical(res$terms, tun$terms) && isTRUE(all.equal(res$coef, tun$coef, tolerance = 1e-6)) &&
      identical(res$high, tun$high) && isTRUE(all.equal(res$groups, tun$groups, tolerance = 1e-6))
    if (!same) stop(sprintf("study %d: the tuned and plain engines differ", s))
    sprintf('"%d": %s', s, sim_json(res))
  }, "")
  json <- sprintf('{"studies": {%s}, "theta": %.17g, "versions": {"survival": "%s", "pROC": "%s", "R": "%s"}}\n',
                  paste(out, collapse = ", "), SIM_THETA, as.character(packageVersion("survival")),
                  as.character(packageVersion("pROC")), paste(R.version$major, R.version$minor, sep = "."))
  cat(json, file = file.path("tests", "reference", "simulation.json"))
}
