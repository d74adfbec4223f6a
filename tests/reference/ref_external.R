# Reference for dmnpc.cases.stratos (tests/cases/test_stratos.py): the STRATOS TG6 case study
# (McLernon et al., Ann Intern Med 2023;176:105-114), basic model, redone in R from its
# description: development on survival::rotterdam, external validation on survival::gbsg,
# recurrence-free survival administratively censored at 5 years.
# Data: tests/data/rotterdam.csv and tests/data/gbsg.csv (exported by export_data.R).
# Written from the case study's published description, not copied from its repository.
# Run from the repository root: Rscript tests/reference/ref_external.R
suppressPackageStartupMessages({library(survival); library(rms); library(riskRegression)})  # JSON by hand

rot <- read.csv(file.path("tests", "data", "rotterdam.csv"))
gb <- read.csv(file.path("tests", "data", "gbsg.csv"))
stopifnot(nrow(rot) == 2982, nrow(gb) == 686)

# ---- preparation --------------------------------------------------------------------------
# Rotterdam: recurrence-free survival = first of recurrence or death. Patients who died without
# a recorded recurrence but whose recurrence follow-up (rtime) ends before their death (dtime)
# take the death time.
rot$rfs <- pmax(rot$recur, rot$death)
fix <- rot$rfs == 1 & rot$recur == 0 & rot$death == 1 & rot$rtime < rot$dtime
rot$ryear <- ifelse(fix, rot$dtime, rot$rtime) / 365.25
nodes99 <- unname(quantile(rot$nodes, 0.99, type = 1))   # winsorising cap, from the development data
gb$rfs <- gb$status
gb$ryear <- gb$rfstime / 365.25
prep <- function(d, size_cat) {
  data.frame(ryear = d$ryear, rfs = d$rfs,
             size2050 = as.numeric(size_cat == "20-50"), size50 = as.numeric(size_cat == ">50"),
             nodes2 = pmin(d$nodes, nodes99),
             grade3 = as.numeric(d$grade == 3))
}
dev <- prep(rot, rot$size)
val <- prep(gb, as.character(cut(gb$size, c(-1, 20, 50, 500), c("<=20", "20-50", ">50"))))
# 3-knot restricted cubic spline of the capped nodes at 0, 1 and 9 (non-linear term only)
dev$nodes3 <- as.vector(Hmisc::rcspline.eval(dev$nodes2, knots = c(0, 1, 9)))
val$nodes3 <- as.vector(Hmisc::rcspline.eval(val$nodes2, knots = c(0, 1, 9)))
# administrative censoring at 5 years (survSplit at 5, first epoch)
cens5 <- function(d) { late <- d$ryear > 5; d$rfs[late] <- 0; d$ryear[late] <- 5; d }
dev <- cens5(dev)
val <- cens5(val)
stopifnot(sum(dev$rfs) == 1275)   # the case study's printed number of events

# ---- model ---------------------------------------------------------------------------------
ctl <- coxph.control(eps = 1e-10, iter.max = 100)
fit <- coxph(Surv(ryear, rfs) ~ size2050 + size50 + nodes2 + nodes3 + grade3, data = dev,
             x = TRUE, y = TRUE, control = ctl)
bh <- basehaz(fit, centered = FALSE)
S0_5 <- exp(-bh$hazard[max(which(bh$time <= 5))])
horizon <- 5

measures <- function(d) {
  d$lp <- predict(fit, newdata = d, type = "lp")          # centred at the development means
  d$pred <- as.vector(predictRisk(fit, newdata = d, times = horizon))
  # predictRisk is 1 - S0(5)^exp(x'b) with the Efron-type baseline of survfit.coxph
  pred_sf <- 1 - as.vector(summary(survfit(fit, newdata = d), times = horizon)$surv)
  stopifnot(max(abs(d$pred - pred_sf)) < 1e-12)
  hc <- concordance(Surv(ryear, rfs) ~ lp, data = d, reverse = TRUE)
  uc <- concordance(Surv(ryear, rfs) ~ lp, data = d, reverse = TRUE, timewt = "n/G2")
  # AUC, Brier and IPA at 4.99 years: at 5 years nobody is still followed after the horizon
  sc <- Score(list(model = d$pred), formula = Surv(ryear, rfs) ~ 1, data = d, times = 4.99,
              metrics = c("auc", "brier"), summary = "ipa", cens.model = "km", conf.int = TRUE)
  auc <- as.data.frame(sc$AUC$score)
  br <- as.data.frame(sc$Brier$score)
  km <- summary(survfit(Surv(ryear, rfs) ~ 1, data = d), times = horizon)
  oe <- (1 - km$surv) / mean(d$pred)
  z <- qnorm(0.975)
  sl <- coxph(Surv(ryear, rfs) ~ lp, data = d, control = ctl)
  # smooth calibration: Cox model on a 3-knot rcs of cloglog(predicted risk), rms defaults
  d$cll <- log(-log(1 - d$pred))
  cal <- cph(Surv(ryear, rfs) ~ rcs(cll, 3), data = d, x = TRUE, y = TRUE, surv = TRUE)
  obs <- 1 - survest(cal, newdata = d, times = horizon)$surv
  dif <- abs(d$pred - obs)
  # the same curve fully converged
  calf <- cph(Surv(ryear, rfs) ~ rcs(cll, 3), data = d, x = TRUE, y = TRUE, surv = TRUE, eps = 1e-12, tol = 1e-14,
              iter.max = 100)
  diff_full <- abs(d$pred - (1 - survest(calf, newdata = d, times = horizon)$surv))
  # net benefit at 23%, Kaplan-Meier definition; treated = predicted risk strictly above it
  p <- 0.23
  treated <- d$pred > p
  s_t <- summary(survfit(Surv(ryear, rfs) ~ 1, data = d[treated, ]), times = horizon, extend = TRUE)$surv
  x <- mean(treated)
  list(
    n = nrow(d), events = sum(d$rfs), pred = d$pred, lp = unname(d$lp),
    harrell = c(unname(coef(hc)), unname(vcov(hc))), uno = c(unname(coef(uc)), unname(vcov(uc))),
    auc = c(auc$AUC[auc$model == "model"], auc$se[auc$model == "model"]),
    brier = c(br$Brier[br$model == "model"], br$se[br$model == "model"]),
    brier_null = br$Brier[br$model == "Null model"], ipa = br$IPA[br$model == "model"],
    oe = c(oe, oe * exp(-z * sqrt(1 / km$n.event)), oe * exp(z * sqrt(1 / km$n.event))),
    observed = 1 - km$surv, expected = mean(d$pred), events_by_5 = km$n.event,
    slope = c(unname(coef(sl)), sqrt(unname(vcov(sl)[1, 1]))),
    knots = unname(attr(rcs(d$cll, 3), "parms")),
    ici = c(mean(dif), unname(quantile(dif, c(0.5, 0.9)))),
    ici_full = c(mean(diff_full), unname(quantile(diff_full, c(0.5, 0.9)))),
    nb = c(x * (1 - s_t) - x * s_t * p / (1 - p), (1 - km$surv) - km$surv * p / (1 - p), sum(treated))
  )
}
m <- list(development = measures(dev), validation = measures(val))

num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
one <- function(r) {
  sprintf(paste0('{"n": %d, "events": %d, "harrell": %s, "uno": %s, "auc": %s, "brier": %s, ',
                 '"brier_null": %.17g, "ipa": %.17g, "oe": %s, "observed": %.17g, "expected": %.17g, ',
                 '"events_by_5": %d, "slope": %s, "knots": %s, "ici": %s, "ici_full": %s, "nb": %s, ',
                 '"lp": %s, "pred": %s}'),
          r$n, as.integer(r$events), num(r$harrell), num(r$uno), num(r$auc), num(r$brier), r$brier_null,
          r$ipa, num(r$oe), r$observed, r$expected, as.integer(r$events_by_5), num(r$slope), num(r$knots),
          num(r$ici), num(r$ici_full), num(r$nb), num(r$lp), num(r$pred))
}
json <- sprintf(paste0('{"nodes99": %.17g, "coef": %s, "se": %s, "S0_5": %.17g, "horizon": %.17g, ',
                       '"threshold": 0.23, "development": %s, "validation": %s, ',
                       '"versions": {"R": "%s", "survival": "%s", "rms": "%s", "riskRegression": "%s"}}\n'),
                nodes99, num(unname(coef(fit))), num(unname(sqrt(diag(vcov(fit))))), S0_5, horizon,
                one(m$development), one(m$validation), paste(R.version$major, R.version$minor, sep = "."),
                as.character(packageVersion("survival")), as.character(packageVersion("rms")),
                as.character(packageVersion("riskRegression")))
cat(json, file = file.path("tests", "reference", "external.json"))
