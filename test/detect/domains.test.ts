/**
 * Domain-aware calibration (#6): one detector per domain with enough examples, the pooled fallback, the
 * minimum-sample rules, routing, and the drift warning, on rows whose likelihood signal flips sign by domain.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyDetector, detectorScore } from '../../src/detect/detector.js';
import { calibrateByDomain, routeDetector } from '../../src/detect/domains.js';
import { DriftMeter } from '../../src/detect/drift.js';
import type { ScoreRow } from '../../src/detect/features.js';
import { auroc } from '../../src/detect/metrics.js';
import { gaussian, mulberry32 } from '../../src/random.js';
import { fakeRows, writeScoreDir } from './fake-scores.js';

const ROOT = join(import.meta.dirname, '..', '..');
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'run.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });

/** Machine rows of domain 'flip' are LESS likely than human ones (NLL up): the opposite of domain 'news'. */
function domainRows(domain: string, n: number, machine: boolean, seed: number): ScoreRow[] {
  const rng = mulberry32(seed);
  const g = () => gaussian(rng);
  const sign = domain === 'flip' ? -1 : 1;
  return fakeRows(n, false, seed).map((r, i) => {
    const shift = machine ? 1.5 * sign : 0;
    const nll = 3.5 - 0.3 * shift + 0.3 * g();
    return { ...r, id: `${domain}-${machine ? 'm' : 'h'}${i}`, mean_nll: nll, mean_log_rank: nll / 2 + 0.1 * g(), mean_entropy: nll - 0.3 + 0.2 * g(), fast_detect: shift + g() };
  });
}

function build() {
  const parts = [
    ['news', 320, 300], ['flip', 320, 300], ['thin', 30, 30], ['midsize', 100, 100],
  ] as const;
  const human: ScoreRow[] = [];
  const synthetic: ScoreRow[] = [];
  const hd: string[] = [];
  const sd: string[] = [];
  parts.forEach(([d, nh, ns], k) => {
    human.push(...domainRows(d, nh, false, 10 + k));
    hd.push(...Array<string>(nh).fill(d));
    synthetic.push(...domainRows(d, ns, true, 20 + k));
    sd.push(...Array<string>(ns).fill(d));
  });
  return { human, synthetic, hd, sd };
}

describe('calibrateByDomain', () => {
  const { human, synthetic, hd, sd } = build();
  const det = calibrateByDomain(human, synthetic, { targetFpr: 0.01, model: 'fake', field: 'domain', humanDomains: hd, syntheticDomains: sd });

  it('fits a detector for each domain with enough examples; the rest fall back to the pooled one, saying why', () => {
    expect(Object.keys(det.domains!.detectors).sort()).toEqual(['flip', 'news']);
    expect(det.domains!.pooled.thin).toMatch(/30 human and 30 machine examples; a detector of its own needs 50 of each/);
    expect(det.domains!.pooled.midsize).toMatch(/100 human examples cannot certify a 1% false-positive rate \(need 299\)/);
    const news = det.domains!.detectors.news!.calibration;
    expect(news.n_human).toBe(320);
    expect(news.stats.threshold_fpr).toBeLessThanOrEqual(0.01);
    expect(news.stats.tpr_at_1pct_fpr_ci.lo).toBeLessThanOrEqual(news.stats.tpr_at_1pct_fpr);
    expect(news.stats.tpr_at_1pct_fpr_ci.hi).toBeGreaterThanOrEqual(news.stats.tpr_at_1pct_fpr);
  });

  it('per-domain detectors beat the pooled one where the likelihood signal flips sign', () => {
    for (const d of ['news', 'flip']) {
      const h = domainRows(d, 200, false, 90);
      const m = domainRows(d, 200, true, 91);
      const labels = [...h.map(() => 0 as const), ...m.map(() => 1 as const)];
      const own = auroc([...h, ...m].map((r) => detectorScore(det.domains!.detectors[d]!.detector, r)), labels);
      const pooled = auroc([...h, ...m].map((r) => detectorScore(det.detector, r)), labels);
      expect(own).toBeGreaterThan(0.9);
      expect(own).toBeGreaterThan(pooled);
    }
  });

  it('routes by domain: own detector, pooled for thin domains (seen) and for unseen ones', () => {
    expect(routeDetector(det, 'flip')).toMatchObject({ name: 'domain:flip', seen: true });
    expect(routeDetector(det, 'thin')).toMatchObject({ name: 'pooled', seen: true });
    expect(routeDetector(det, 'yelp')).toMatchObject({ name: 'pooled', seen: false });
    expect(routeDetector(det, undefined)).toMatchObject({ name: 'pooled', seen: false });
    const row = domainRows('flip', 1, true, 5)[0]!;
    expect(applyDetector(routeDetector(det, 'flip').spec, row).score).toBe(detectorScore(det.domains!.detectors.flip!.detector, row));
  });
});

describe('DriftMeter', () => {
  it('no drift on a sample of the calibration distribution; a 2-sd shift in one signal is flagged', () => {
    const { human, synthetic, hd, sd } = build();
    const det = calibrateByDomain(human, synthetic, { targetFpr: 0.05, model: 'fake', field: 'domain', humanDomains: hd, syntheticDomains: sd });
    const ref = det.domains!.detectors.news!.reference;
    const same = new DriftMeter(ref);
    [...domainRows('news', 150, false, 70), ...domainRows('news', 140, true, 71)].forEach((r) => same.add(r));
    expect(same.report().drifting).toEqual([]);
    const shifted = new DriftMeter(ref);
    const sdNll = ref.mean_nll!.sd;
    domainRows('news', 200, false, 72).forEach((r) => shifted.add({ ...r, mean_nll: r.mean_nll + 2 * sdNll }));
    const rep = shifted.report();
    expect(rep.drifting).toContain('mean_nll');
    expect(rep.smd.mean_nll).toBeGreaterThan(1.5);
    expect(rep.psi.mean_nll).toBeGreaterThan(0.25);
  });
});

describe('calibrate --domain-field → detect: routing, per-row detector, warnings', () => {
  it('each row names its detector; an unseen domain and a drifting one are warned about, even with --quiet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailguard-domains-'));
    const { human, synthetic, hd, sd } = build();
    // Score directories whose corpus (named in run.json) carries the domain field.
    const withCorpus = (name: string, rows: ScoreRow[], domains: string[]) => {
      const numbered = rows.map((r, i) => ({ ...r, line: i + 1 }));
      writeFileSync(join(dir, `${name}.jsonl`), numbered.map((r, i) => JSON.stringify({ id: r.id, domain: domains[i], text: 'x' })).join('\n') + '\n');
      return writeScoreDir(join(dir, name), numbered, { input: join(dir, `${name}.jsonl`) });
    };
    withCorpus('h', human, hd);
    withCorpus('s', synthetic, sd);
    const cal = run(['calibrate', '--human', join(dir, 'h'), '--synthetic', join(dir, 's'), '--out', join(dir, 'det.json'), '--domain-field', 'domain']);
    expect(cal.status, cal.stderr).toBe(0);
    expect(cal.stdout).toMatch(/detectors of their own \(domain field domain, at least 50 examples/);
    expect(cal.stdout).toMatch(/thin: pooled detector/);

    const input = [
      ...domainRows('news', 40, false, 80), ...domainRows('news', 40, true, 81),
      ...domainRows('flip', 40, false, 82).map((r) => ({ ...r, mean_nll: r.mean_nll + 3 })), // drifted
      ...domainRows('yelp', 30, false, 83),
    ];
    const domains = [...Array<string>(80).fill('news'), ...Array<string>(40).fill('flip'), ...Array<string>(30).fill('yelp')];
    withCorpus('in', input, domains);
    const r = run(['detect', join(dir, 'in'), '--detector', join(dir, 'det.json'), '--out', join(dir, 'out'), '--quiet', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/WARNING: domain 'yelp' \(30 rows\) was never seen in calibration: scored by the pooled detector/);
    expect(r.stderr).toMatch(/WARNING: domain 'flip' \(40 rows\) drifts from what its detector \(domain:flip\) was calibrated on: .*mean_nll/);
    expect(r.stderr).not.toMatch(/domain 'news'/);
    const rows = readFileSync(join(dir, 'out', 'detections.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.slice(0, 80).every((x) => x.detector === 'domain:news' && x.domain === 'news')).toBe(true);
    expect(rows.slice(120).every((x) => x.detector === 'pooled')).toBe(true);
    const summary = JSON.parse(r.stdout);
    expect(summary.domains.yelp).toMatchObject({ rows: 30, detector: 'pooled', seen_in_calibration: false });
    expect(summary.warnings).toHaveLength(2);
  });
});
