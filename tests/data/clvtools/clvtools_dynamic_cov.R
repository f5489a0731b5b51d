# How the CLVTools golden values of tests/ltv/test_dynamic_covariates.py were made: CLVTools 0.12.1
# (github.com/bachmannpatrick/CLVTools, release commit 1b06356) built from source with R 4.2.2
# (Debian packages), run with `Rscript clvtools_dynamic_cov.R OUTDIR` (lib.loc: where it was installed).
# Set-up of CLVTools' vignette: weeks, a 104-week estimation split, time-varying covariates
# High.Season, Gender and Channel on both processes, one row per customer and week (Cov.Date).
suppressMessages(library(CLVTools))
# Arguments: OUTDIR and which parts to run ("both" by default, or "vignette" / "interior").
args <- commandArgs(trailingOnly=TRUE); out <- if (length(args)) args[1] else "."
parts <- if (length(args) > 1) args[2] else "both"
data("apparelTrans"); data("apparelDynCov")
clv.apparel <- clvdata(apparelTrans, date.format="ymd", time.unit="week", estimation.split=104,
                       name.id="Id", name.date="Date", name.price="Price")
covs <- c("High.Season","Gender","Channel")
clv.dyn <- SetDynamicCovariates(clv.data=clv.apparel, data.cov.life=apparelDynCov,
                                data.cov.trans=apparelDynCov, names.cov.life=covs,
                                names.cov.trans=covs, name.id="Id", name.date="Cov.Date")
options(digits=12)
if (parts %in% c("both", "vignette")) {
t0 <- Sys.time(); est <- pnbd(clv.dyn, verbose=FALSE); el <- Sys.time() - t0
cat("MODEL pnbd dyncov time", format(el), "\n")
print(coef(est)); print(logLik(est)); print(sqrt(diag(vcov(est))))
saveRDS(est, file.path(out, "est_dyncov.rds"))
# per-customer log-likelihood at the fit and at a fixed point away from it (log r, log alpha,
# log s, log beta, then the life and the trans coefficients, as CLVTools orders them)
ns <- asNamespace("CLVTools")
p.fit <- est@optimx.estimation.output[1, c(est@clv.model@names.prefixed.params.model,
                                           est@names.prefixed.params.after.constr.life,
                                           est@names.prefixed.params.after.constr.trans)]
p.fit <- unlist(p.fit)
p.off <- setNames(c(log(0.8), log(10), log(0.6), log(12), 0.3, -0.2, 0.4, 0.2, 0.5, -0.3), names(p.fit))
for (nm in c("fit", "off")) {
  p <- if (nm == "fit") p.fit else p.off
  d <- ns$pnbd_dyncov_getLLdata(est, p)
  cat("LLSUM", nm, format(sum(d$LL), digits=15), "\n"); print(p)
  write.csv(d[, c("Id", "LL")], file.path(out, paste0("ll_", nm, ".csv")), row.names=FALSE)
}
t0 <- Sys.time(); pr <- predict(est, verbose=FALSE); el <- Sys.time() - t0
cat("PREDICT time", format(el), "\n"); print(head(pr))
write.csv(pr, file.path(out, "predict.csv"), row.names=FALSE)
}
# The vignette's fit has no finite optimum for life.High.Season (the likelihood keeps rising as
# it goes to -infinity; CLVTools stops on the flat part). A specification with an interior
# optimum: High.Season on the purchase process only.
if (parts %in% c("both", "interior")) {
clv.int <- SetDynamicCovariates(clv.data=clv.apparel, data.cov.life=apparelDynCov,
                                data.cov.trans=apparelDynCov, names.cov.life=c("Gender","Channel"),
                                names.cov.trans=covs, name.id="Id", name.date="Cov.Date")
t0 <- Sys.time(); est.int <- pnbd(clv.int, verbose=FALSE); el <- Sys.time() - t0
cat("MODEL pnbd dyncov interior time", format(el), "\n")
print(coef(est.int)); print(logLik(est.int)); print(sqrt(diag(vcov(est.int))))
}
