# Produce every R reference value the tests compare against.
# Run from the repository root:  Rscript tests/reference/make_reference.R
# Needs R with survival, rms, riskRegression and pROC (Debian: r-base-core
# r-cran-survival r-cran-rms r-cran-riskregression r-cran-proc).
# Each tests/reference/ref_<topic>.R writes tests/reference/<topic>.json.
# The outputs are committed; CI does not need R.
source(file.path("tests", "reference", "export_data.R"))
for (f in sort(list.files(file.path("tests", "reference"), pattern = "^ref_.*\\.R$", full.names = TRUE))) {
  cat("running", f, "\n")
  source(f, local = new.env())
}
