# CLVTools' own likelihood at our estimate of the vignette model (run after clvtools_dynamic_cov.R,
# which saved est_dyncov.rds). Printed: CLVTOOLS_LL_AT_OUR_ESTIMATE -5752.62334031666 (its own
# estimate: -5752.93672023).
suppressMessages(library(CLVTools))
est <- readRDS("/tmp/dyncov15/est_dyncov.rds")
ns <- asNamespace("CLVTools")
p <- est@optimx.estimation.output[1, c(est@clv.model@names.prefixed.params.model, est@names.prefixed.params.after.constr.life, est@names.prefixed.params.after.constr.trans)]
p <- unlist(p)
# our estimate (fit_dynamic_covariates on the same data), in CLVTools' order
ours <- setNames(c(log(2.1591042912664293), log(123.96240127769106), log(1.257163024501615), log(85.15738847181882), -10.0, -0.5441122568396544, 0.5368269480904858, 0.7184978129726175, 0.25823377530509734, 0.6228572341537009), names(p))
d <- ns$pnbd_dyncov_getLLdata(est, ours)
options(digits=15)
cat("CLVTOOLS_LL_AT_OUR_ESTIMATE", format(sum(d$LL), digits=15), "\n")
