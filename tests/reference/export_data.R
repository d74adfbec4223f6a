# Export the public datasets used as R-checked references to tests/data/.
# Source: R package 'survival' (Therneau), datasets gbsg and rotterdam
# (German Breast Cancer Study Group 2 trial; Rotterdam tumour bank), as documented
# in ?survival::gbsg and ?survival::rotterdam.
suppressPackageStartupMessages(library(survival))
out <- file.path("tests", "data")
write.csv(survival::gbsg, file.path(out, "gbsg.csv"), row.names = FALSE)
write.csv(survival::rotterdam, file.path(out, "rotterdam.csv"), row.names = FALSE)
cat("survival", as.character(packageVersion("survival")), "\n")
