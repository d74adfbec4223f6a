# Reference for dmnpc.stats.splines (tests/stats/test_splines.py): Hmisc::rcspline.eval's default knots
# (quantile rule, n < 100 rule, fractied rule for a heavy tie at an end, alternate algorithm for tied
# quantiles, too few distinct values), the rcs basis (norm = 2), and rms::cph with rcs() terms on
# survival::gbsg (tests/data/gbsg.csv), all 686 patients and a random 90 (rows written to the JSON): coefficients, covariance,
# LR chi-square, d.f., AIC, concordance, linear predictors and Predict(..., ref.zero = TRUE).
# cph converges fully here (eps = 1e-10; its default eps = 1e-4 stops ~1e-5 short of the maximum).
# Run from the repository root: Rscript tests/reference/ref_splines.R   (JSON written by hand: no jsonlite)
suppressPackageStartupMessages(library(rms))
d <- read.csv(file.path("tests", "data", "gbsg.csv"))
rot <- read.csv(file.path("tests", "data", "rotterdam.csv"))
d$lnodes <- log10(d$nodes + 1)
num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
str1 <- function(x) paste0("[", paste(sprintf('"%s"', x), collapse = ", "), "]")
obj <- function(...) {  # named list of already-JSON strings -> JSON object
  x <- list(...)
  paste0("{", paste(sprintf('"%s": %s', names(x), unlist(x)), collapse = ", "), "}")
}

# ---------------------------------------------------------------- knots (the Python test rebuilds each x by name)
set.seed(90)
rows90 <- sort(sample(nrow(d), 90))  # 1-based; gbsg is sorted (its first 90 rows nearly all have pgr = 0)
d90 <- d[rows90, ]
cases <- list(
  list("gbsg_age", d$age, 3), list("gbsg_age", d$age, 4), list("gbsg_age", d$age, 5), list("gbsg_age", d$age, 7),
  list("gbsg_lnodes", d$lnodes, 3), list("gbsg_lnodes", d$lnodes, 4),
  list("gbsg_pgr", d$pgr, 3), list("gbsg_pgr", d$pgr, 4),            # 13% at pgr = 0: fractied rule
  list("gbsg_neg_pgr", -d$pgr, 3),                                    # the same tie at the maximum
  list("gbsg_er", d$er, 3),
  list("gbsg90_age", d90$age, 3), list("gbsg90_lnodes", d90$lnodes, 3), list("gbsg90_pgr", d90$pgr, 3),
  list("gbsg90_pgr", d90$pgr, 4), list("gbsg90_size", d90$size, 5),   # n < 100: 5th smallest / largest
  list("rot_nodes", rot$nodes, 3), list("rot_nodes", rot$nodes, 4),   # tied quantiles: alternate algorithm
  list("gbsg_age_decade", round(d$age / 10), 5),                      # 7 distinct values: interior ones
  list("tied_median", c(-(1:45), rep(0, 50), 1:5), 3),                # .5 and .9 quantiles tied: alternate
  list("tied_median_90", c(-(1:40), rep(0, 45), 1:5), 3),             # the same with n < 100
  list("tied_all", c(-(1:5), rep(0, 80), 1:15), 3)                    # fewer than 3 distinct knots: error
)
knot_json <- vapply(cases, function(cs) {
  w <- character(0)
  k <- tryCatch(withCallingHandlers(
    capture.output(kk <- rcspline.eval(cs[[2]], nk = cs[[3]], knots.only = TRUE)),  # quiet its table printing
    warning = function(m) { w <<- c(w, conditionMessage(m)); invokeRestart("muffleWarning") }),
    error = function(e) NULL)
  k <- if (is.null(k)) numeric(0) else kk
  obj(name = sprintf('"%s"', cs[[1]]), nk = cs[[3]], knots = if (length(k)) num(k) else "[]",
      warned = tolower(length(w) > 0), error = tolower(length(k) == 0))
}, "")

# ---------------------------------------------------------------- basis
bx <- seq(-1, 3, by = 0.25)
bkn <- c(0, 0.5, 1.2, 2)
B <- rcspline.eval(bx, knots = bkn, inclx = TRUE)
basis_json <- obj(x = num(bx), knots = num(bkn), columns = paste0("[", paste(apply(B, 2, num), collapse = ", "), "]"))

# ---------------------------------------------------------------- cph with rcs terms
model_json <- function(dat, label) {
  dd <- datadist(dat); options(datadist = dd)
  assign("dd", dd, envir = globalenv()); options(datadist = "dd")
  f <- cph(Surv(rfstime, status) ~ rcs(age, 3) + rcs(lnodes, 3) + rcs(pgr, 3) + meno + grade, data = dat,
           x = TRUE, y = TRUE, surv = TRUE, eps = 1e-10, tol = 1e-13, iter.max = 100)
  cc <- concordance(Surv(dat$rfstime, dat$status) ~ f$linear.predictors, reverse = TRUE)
  grids <- list(age = seq(25, 80, by = 5), lnodes = log10(c(1, 2, 3, 5, 8, 12, 20, 30, 50) + 1),
                pgr = c(0, 1, 5, 20, 56, 100, 200, 347.8, 500, 1000, 2000), meno = c(0, 1), grade = 1:3)
  pred <- vapply(names(grids), function(v) {
    a <- list(f, grids[[v]]); names(a) <- c("", v)
    p <- do.call(Predict, c(a, list(ref.zero = TRUE, conf.int = 0.95)))
    obj(variable = sprintf('"%s"', v), value = num(p[[v]]), yhat = num(p$yhat), lower = num(p$lower),
        upper = num(p$upper), reference = sprintf("%.17g", dd$limits["Adjust to", v]))
  }, "")
  st <- f$stats
  obj(label = sprintf('"%s"', label), n = nrow(dat),
      knots = obj(age = num(f$Design$parms$age), lnodes = num(f$Design$parms$lnodes), pgr = num(f$Design$parms$pgr)),
      terms = str1(names(coef(f))), coef = num(coef(f)), vcov = num(as.vector(vcov(f))),
      loglik = num(f$loglik), lr_chisq = sprintf("%.17g", st[["Model L.R."]]), df = sprintf("%d", as.integer(st[["d.f."]])),
      aic = sprintf("%.17g", AIC(f)), concordance = sprintf("%.17g", cc$concordance),
      concordance_var = sprintf("%.17g", cc$var), dxy_rcorr = sprintf("%.17g", st[["Dxy"]]),
      lp = num(f$linear.predictors), predict = paste0("[", paste(pred, collapse = ", "), "]"))
}
models <- c(model_json(d, "gbsg"), model_json(d90, "gbsg90"))

json <- sprintf('{"rows90": %s, "knots": [%s], "basis": %s, "models": [%s], "rms": "%s", "Hmisc": "%s", "survival": "%s"}\n',
                num(rows90), paste(knot_json, collapse = ", "), basis_json, paste(models, collapse = ", "),
                as.character(packageVersion("rms")), as.character(packageVersion("Hmisc")),
                as.character(packageVersion("survival")))
cat(json, file = file.path("tests", "reference", "splines.json"))
