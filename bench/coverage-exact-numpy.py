"""Plain exact PRDC with numpy, the way the prdc package (Naeem et al. 2020) computes it: full distance matrices
(reference x reference, candidate x candidate, reference x candidate), k-th values by argpartition. The baseline of
bench/coverage-exact.ts; run with OMP/OPENBLAS threads set by the caller.

  python3 bench/coverage-exact-numpy.py REF.npy CAND.npy K cosine|euclidean float64|float32

Prints one JSON line: precision, recall, density, coverage, seconds (the metric computation, after loading),
peak_rss_mib (the process's). Memberships use <= like tailguard (the prdc package uses <; equal only on ties).
"""
import json
import resource
import sys
import time

import numpy as np


def distances(a, b):
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * (a @ b.T)
    np.maximum(d, 0, out=d)
    return np.sqrt(d, out=d)


def kth(d, k):
    # The prdc package's get_kth_value: the k smallest of each row (argpartition), then their largest.
    idx = np.argpartition(d, k - 1, axis=-1)[..., :k]
    return np.take_along_axis(d, idx, axis=-1).max(axis=-1)


def main():
    ref_path, cand_path, k, metric, dtype = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    real = np.load(ref_path).astype(dtype)
    fake = np.load(cand_path).astype(dtype)
    if metric == 'cosine':
        real /= np.maximum(np.linalg.norm(real, axis=1, keepdims=True), 1e-30)
        fake /= np.maximum(np.linalg.norm(fake, axis=1, keepdims=True), 1e-30)
    t0 = time.perf_counter()
    real_r = kth(distances(real, real), k + 1)
    fake_r = kth(distances(fake, fake), k + 1)
    d = distances(real, fake)
    inside = d <= real_r[:, None]
    precision = float(inside.any(axis=0).mean())
    density = float(inside.sum(axis=0).mean() / k)
    del inside
    recall = float((d <= fake_r[None, :]).any(axis=1).mean())
    coverage = float((d.min(axis=1) <= real_r).mean())
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'precision': precision, 'recall': recall, 'density': density, 'coverage': coverage, 'seconds': seconds, 'peak_rss_mib': peak}))


if __name__ == '__main__':
    main()
