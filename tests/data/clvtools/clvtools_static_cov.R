# How the CLVTools golden values of tests/ltv/test_covariates.py were made: CLVTools 0.12.1
# (github.com/bachmannpatrick/CLVTools, release commit 1b06356) built from source with R 4.2.2
# (Debian packages), run with `Rscript clvtools_static_cov.R` (lib.loc: where it was installed).
suppressMessages(library(CLVTools))
data("apparelTrans"); data("apparelStaticCov")
clv.apparel <- clvdata(apparelTrans, date.format="ymd", time.unit="week", estimation.split=104,
                       name.id="Id", name.date="Date", name.price="Price")
clv.static <- SetStaticCovariates(clv.data=clv.apparel, data.cov.life=apparelStaticCov,
                                  data.cov.trans=apparelStaticCov,
                                  names.cov.life=c("Gender","Channel"),
                                  names.cov.trans=c("Gender","Channel"), name.id="Id")
options(digits=10)
for (m in c("pnbd", "bgnbd")) {
  f <- get(m)
  t0 <- Sys.time(); est <- f(clv.static, verbose=FALSE); el <- Sys.time() - t0
  cat("MODEL", m, "time", format(el), "\n")
  print(coef(est)); print(logLik(est)); print(sqrt(diag(vcov(est))))
  est0 <- f(clv.apparel, verbose=FALSE)
  cat("NOCOV", m, "\n"); print(coef(est0)); print(logLik(est0))
}
est.c <- pnbd(clv.static, names.cov.constr="Gender", start.params.constr=c(Gender=0.1), verbose=FALSE)
cat("CONSTR pnbd\n"); print(coef(est.c)); print(logLik(est.c)); print(sqrt(diag(vcov(est.c))))
est.r <- pnbd(clv.static, reg.lambdas=c(trans=5, life=5), verbose=FALSE)
cat("REG pnbd 5\n"); print(coef(est.r)); print(logLik(est.r))
# GGompertz/NBD (golden values of tests/ltv/test_covariates_ggompertz.py): without covariates,
# then with Gender and Channel on both processes (about 4 minutes).
est0 <- ggomnbd(clv.apparel, verbose=FALSE)
cat("NOCOV ggomnbd\n"); print(coef(est0)); print(logLik(est0)); print(sqrt(diag(vcov(est0))))
t0 <- Sys.time(); est <- ggomnbd(clv.static, verbose=FALSE); el <- Sys.time() - t0
cat("MODEL ggomnbd time", format(el), "\n")
print(coef(est)); print(logLik(est)); print(sqrt(diag(vcov(est)))); print(summary(est))
