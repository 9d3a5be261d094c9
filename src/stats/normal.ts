/**
 * The standard normal distribution function, for turning a z multiplier into the confidence level of a percentile
 * interval: Φ(z) = (1 + erf(z/√2)) / 2, erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7: Φ(1.96) =
 * 0.9750021 to six places, far finer than any interval needs).
 */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** The two-sided confidence level of ±z standard errors: 2Φ(z) − 1 (0.95 at z = 1.96). */
export function confidenceOfZ(z: number): number {
  return 2 * normalCdf(z) - 1;
}
