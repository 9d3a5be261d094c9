/** The statistics every room shares (detection, coverage, audit, diversity, signals): one import path. */
export { binomialCdf, binomialUpperBound, clopperPearson, logBinomialPmf, logGamma } from './binomial.js';
export {
  bootstrapCi,
  bootstrapCiByStrata,
  bootstrapCiStratified,
  bootstrapSe,
  take,
  type BootstrapOptions,
} from './bootstrap.js';
export { checkConfidence, type Interval } from './interval.js';
export { confidenceOfZ, normalCdf } from './normal.js';
export { quantileSorted } from './quantiles.js';
export { symmetricEigen, symmetricEigenvalues, type SymmetricEigen } from './symmetric-eigen.js';
