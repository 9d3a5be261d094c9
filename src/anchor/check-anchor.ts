/**
 * `checkAnchor`: is the verified human anchor still in this generation's training mix? The anchor is read into
 * hashes (anchor-set.ts), the mix streamed through once (mix-scan.ts), the anchor read again to name what was found
 * (anchor-rows.ts). Reports which anchor documents are present (by id, by normalised text, by either), missing,
 * altered (id kept, text changed) or repeated, the anchor's share of the mix's rows, and, with detections from
 * `tailguard detect` over the anchor or the mix, the anchor documents flagged as machine-written. The gate fails when
 * the share is under `minShare` or more than `maxMissing` documents are missing. With `ledger`, the generation's
 * numbers are recorded beside the earlier generations' (ledger.ts).
 *
 * Memory: about 100 bytes per anchor document, nothing per mix row. Outputs in `out` (optional): report.json,
 * anchor.jsonl, missing.jsonl, and contaminated.jsonl with detections.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadAnchor } from './anchor-set.js';
import { ANCHOR_FILES, tallyAnchor } from './anchor-rows.js';
import { DetectionJoin } from './detections.js';
import { falseMatchBound } from './hashing.js';
import { ledgerWarnings, recordGeneration } from './ledger.js';
import { scanMix } from './mix-scan.js';
import type { AnchorReport, SideSummary } from './report.js';
import { resolveSource, sourceDocs, type Source } from './sources.js';

export interface AnchorCheckOptions {
  /** This generation's training mix: a corpus or a score directory. */
  mix: string;
  /** The human anchor: a corpus or a score directory (read twice, so not stdin). */
  anchor: string;
  /** Output directory (nothing but the ledger is written without one). */
  out?: string;
  /** Text and id fields of the mix, and of the anchor unless `anchorTextField` / `anchorIdField` (default: "text", none). */
  textField?: string;
  idField?: string;
  anchorTextField?: string;
  anchorIdField?: string;
  /** The gate: the anchor's share of the mix's rows at least this (0–1). */
  minShare?: number;
  /** The gate: at most this many anchor documents missing from the mix. */
  maxMissing?: number;
  /** detections.jsonl of `tailguard detect` over the anchor (`detectionsOf` 'anchor', the default) or the mix. */
  detections?: string;
  detectionsOf?: 'anchor' | 'mix';
  /** Anchor ledger to record this generation in, under the name `generation`. */
  ledger?: string;
  generation?: string;
}

export const NORMALISATION = 'Unicode NFKC, lower case, white-space runs as one space, trimmed';

function checkOptions(o: AnchorCheckOptions): void {
  if (o.anchor === '-') throw new UsageError('`anchor` is read twice and cannot be stdin: give a file or directory');
  if (o.minShare !== undefined && !(o.minShare >= 0 && o.minShare <= 1))
    throw new UsageError(`\`minShare\` must be a number in [0, 1], got ${o.minShare}`);
  if (o.maxMissing !== undefined && !(Number.isInteger(o.maxMissing) && o.maxMissing >= 0))
    throw new UsageError(`\`maxMissing\` must be an integer ≥ 0, got ${o.maxMissing}`);
  if ((o.ledger === undefined) !== (o.generation === undefined))
    throw new UsageError('`ledger` and `generation` go together: the ledger records a generation by its name');
  if (o.generation !== undefined && o.generation.trim() === '')
    throw new UsageError('`generation` must name the generation');
  if (o.detectionsOf !== undefined && o.detections === undefined)
    throw new UsageError('`detectionsOf` says which side `detections` are of: give `detections` too');
  if (o.detectionsOf !== undefined && o.detectionsOf !== 'anchor' && o.detectionsOf !== 'mix')
    throw new UsageError(`\`detectionsOf\` must be anchor or mix, got ${String(o.detectionsOf)}`);
}

const side = (s: Source): SideSummary => ({
  path: s.path,
  corpus: s.corpus,
  score_dir: s.scoreDir,
  text_field: s.textField,
  id_field: s.idField,
  ids: s.ids,
});

export async function checkAnchor(opts: AnchorCheckOptions): Promise<AnchorReport> {
  checkOptions(opts);
  const anchorSource = await resolveSource(
    opts.anchor,
    { textField: opts.anchorTextField ?? opts.textField, idField: opts.anchorIdField ?? opts.idField },
    {
      textField: opts.anchorTextField ? 'anchorTextField' : 'textField',
      idField: opts.anchorIdField ? 'anchorIdField' : 'idField',
    },
  );
  const mixSource = await resolveSource(
    opts.mix,
    { textField: opts.textField, idField: opts.idField },
    { textField: 'textField', idField: 'idField' },
  );
  const of = opts.detectionsOf ?? 'anchor';
  const detections = opts.detections
    ? new DetectionJoin(opts.detections, of === 'anchor' ? anchorSource.corpus : mixSource.corpus)
    : undefined;
  const matchIds = anchorSource.ids !== 'none' && mixSource.ids !== 'none';

  const set = await loadAnchor(anchorSource, of === 'anchor' ? detections : undefined);
  if (set.size === 0) throw new UsageError(`${opts.anchor}: the anchor has no documents`);
  const mix = await scanMix(set, sourceDocs(mixSource), {
    matchIds,
    detections: of === 'mix' ? detections : undefined,
  });

  const out = opts.out === undefined ? undefined : resolve(opts.out);
  if (out) await mkdir(out, { recursive: true });
  const t = await tallyAnchor(anchorSource, set, { out, matchIds, detections: detections !== undefined });

  const share = mix.rows > 0 ? mix.anchorRows / mix.rows : null;
  const reasons: string[] = [];
  if (opts.minShare !== undefined && (share === null || share < opts.minShare))
    reasons.push(
      share === null
        ? `the mix is empty, so the anchor's share is not at least \`minShare\` ${opts.minShare}`
        : `the anchor's share of the mix ${share.toFixed(4)} (${mix.anchorRows}/${mix.rows} rows) is below \`minShare\` ${opts.minShare}`,
    );
  if (opts.maxMissing !== undefined && t.missing > opts.maxMissing)
    reasons.push(
      `${t.missing} of ${set.size} anchor documents are missing from the mix, more than \`maxMissing\` ${opts.maxMissing}`,
    );
  const warnings: string[] = [];
  if (set.repeatedTexts > 0)
    warnings.push(
      `${set.repeatedTexts} anchor documents repeat an earlier anchor document's normalised text: a mix row with that text counts for each of them`,
    );
  if (t.altered > 0)
    warnings.push(`${t.altered} anchor documents are altered: their id is in the mix with another text`);

  const report: AnchorReport = {
    tool: 'tailguard',
    command: 'anchor check',
    anchor: {
      ...side(anchorSource),
      documents: set.size,
      repeated_ids: set.repeatedIds,
      repeated_texts: set.repeatedTexts,
    },
    mix: { ...side(mixSource), rows: mix.rows, rows_without_id: mix.rowsWithoutId },
    id_matching: matchIds,
    present: { by_id: matchIds ? t.present.byId : null, by_text: t.present.byText, by_either: t.present.byEither },
    missing: { documents: t.missing, examples: t.examples.missing },
    altered: {
      documents: matchIds ? t.altered : null,
      rows: matchIds ? mix.alteredRows : null,
      examples: t.examples.altered,
    },
    share: { anchor_rows: mix.anchorRows, mix_rows: mix.rows, value: share },
    duplicates: { documents: t.duplicates, extra_rows: t.extraRows, examples: t.examples.duplicates },
    contamination: detections
      ? {
          detections: resolve(detections.path),
          of,
          flagged_documents: t.flagged,
          flagged_in_mix: t.flaggedInMix,
          flagged_rows: of === 'mix' ? mix.flaggedAnchorRows : null,
          unscored_rows: detections.unscored,
          examples: t.examples.flagged,
        }
      : null,
    hashing: {
      normalisation: NORMALISATION,
      hash: 'first 64 bits of SHA-1 (ids and normalised texts apart)',
      expected_false_matches_at_most: falseMatchBound(mix.rows, set.size),
    },
    gate: {
      min_share: opts.minShare ?? null,
      max_missing: opts.maxMissing ?? null,
      passed: reasons.length === 0,
      reasons,
    },
    ledger: null,
    outputs: out
      ? {
          report: join(out, ANCHOR_FILES.report),
          anchor: join(out, ANCHOR_FILES.anchor),
          missing: join(out, ANCHOR_FILES.missing),
          contaminated: detections ? join(out, ANCHOR_FILES.contaminated) : null,
        }
      : null,
    warnings,
  };
  if (opts.ledger !== undefined && opts.generation !== undefined) {
    const ledger = await recordGeneration(opts.ledger, {
      generation: opts.generation,
      mix: opts.mix === '-' ? '-' : resolve(opts.mix),
      anchor: resolve(opts.anchor),
      anchor_documents: set.size,
      mix_rows: mix.rows,
      anchor_rows: mix.anchorRows,
      share,
      present: t.present.byEither,
      missing: t.missing,
      altered: matchIds ? t.altered : 0,
      flagged: detections ? t.flagged : null,
      checked_at: new Date().toISOString(),
    });
    report.ledger = {
      path: resolve(opts.ledger),
      generation: opts.generation,
      generations: ledger.generations.map((g) => ({
        generation: g.generation,
        share: g.share,
        present: g.present,
        missing: g.missing,
      })),
    };
    warnings.push(...ledgerWarnings(ledger, opts.generation));
  }
  if (out) await writeFileAtomic(join(out, ANCHOR_FILES.report), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
