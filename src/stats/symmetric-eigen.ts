/**
 * Eigendecomposition of a symmetric d×d matrix by cyclic Jacobi rotations, with eigenvectors: A = V Λ Vᵀ. Written
 * here rather than taken from a library because it is short and d ≤ 1024 (embedding widths) keeps it cheap enough:
 * O(d³) per sweep, a handful of sweeps. Eigenvalues come sorted from largest to smallest, eigenvector i is column i
 * of the row-major `vectors`.
 */

export interface SymmetricEigen {
  /** Largest first. */
  values: Float64Array;
  /** Row-major d×d; column i is the unit eigenvector of values[i]. */
  vectors: Float64Array;
}

/** `vectors: false` skips the eigenvectors (a third of the work), for when only the spectrum is needed. */
export function symmetricEigen(a: ArrayLike<number>, d: number, opts: { vectors?: boolean } = {}): SymmetricEigen {
  const withVectors = opts.vectors ?? true;
  if (a.length !== d * d) throw new RangeError(`symmetricEigen: expected ${d * d} entries, got ${a.length}`);
  const A = Float64Array.from(a);
  const V = new Float64Array(d * d);
  for (let i = 0; i < d; i++) V[i * d + i] = 1;
  let scale = 0;
  for (let i = 0; i < d * d; i++) scale += A[i]! ** 2;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += A[p * d + q]! ** 2;
    if (off <= 1e-30 * scale || off === 0) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = A[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * d + q]! - A[p * d + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = A[k * d + p]!;
          const akq = A[k * d + q]!;
          A[k * d + p] = c * akp - s * akq;
          A[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = A[p * d + k]!;
          const aqk = A[q * d + k]!;
          A[p * d + k] = c * apk - s * aqk;
          A[q * d + k] = s * apk + c * aqk;
        }
        if (withVectors)
          for (let k = 0; k < d; k++) {
            const vkp = V[k * d + p]!;
            const vkq = V[k * d + q]!;
            V[k * d + p] = c * vkp - s * vkq;
            V[k * d + q] = s * vkp + c * vkq;
          }
      }
    }
  }
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => A[j * d + j]! - A[i * d + i]!);
  const values = Float64Array.from(order, (i) => A[i * d + i]!);
  const vectors = new Float64Array(d * d);
  for (let r = 0; r < d; r++) for (const [c, i] of order.entries()) vectors[r * d + c] = V[r * d + i]!;
  return { values, vectors };
}

/** The eigenvalues alone, largest first. */
export function symmetricEigenvalues(a: ArrayLike<number>, d: number): Float64Array {
  return symmetricEigen(a, d, { vectors: false }).values;
}
