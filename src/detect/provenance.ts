/**
 * Provenance labels. What the input itself says wins; the detector decides only for the rest:
 *   human-verified       the provenance field says human, or the source is on the human (allow) list
 *   synthetic-known      the provenance field says machine, or the source is on the synthetic (deny) list
 *   synthetic-suspected  no declared provenance, and the detector's verdict is synthetic
 *   human-unverified     no declared provenance, and the detector's verdict is human
 * Field values are compared case-insensitively.
 */
export type Provenance = 'human-verified' | 'human-unverified' | 'synthetic-known' | 'synthetic-suspected';
export const PROVENANCE_LABELS: readonly Provenance[] = [
  'human-verified',
  'human-unverified',
  'synthetic-known',
  'synthetic-suspected',
];

export interface ProvenanceRules {
  /** Field declaring the origin of a row (e.g. "origin": "human" | "synthetic"). */
  provenanceField?: string;
  humanValues: string[];
  syntheticValues: string[];
  /** Field naming the row's source, checked against the allow/deny lists. */
  sourceField?: string;
  humanSources: string[];
  syntheticSources: string[];
}

export const DEFAULT_HUMAN_VALUES = ['human', 'human-verified', 'real', 'organic'];
export const DEFAULT_SYNTHETIC_VALUES = ['synthetic', 'synthetic-known', 'machine', 'generated', 'ai', 'llm', 'model'];

/** The label declared by the row's own fields, or null when it declares nothing the rules recognise. */
export function declaredProvenance(fields: Record<string, unknown>, rules: ProvenanceRules): Provenance | null {
  const norm = (v: unknown) =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
      ? String(v).trim().toLowerCase()
      : undefined;
  if (rules.provenanceField) {
    const v = norm(fields[rules.provenanceField]);
    if (v !== undefined && rules.humanValues.map((x) => x.toLowerCase()).includes(v)) return 'human-verified';
    if (v !== undefined && rules.syntheticValues.map((x) => x.toLowerCase()).includes(v)) return 'synthetic-known';
  }
  if (rules.sourceField) {
    const v = norm(fields[rules.sourceField]);
    if (v !== undefined && rules.humanSources.map((x) => x.toLowerCase()).includes(v)) return 'human-verified';
    if (v !== undefined && rules.syntheticSources.map((x) => x.toLowerCase()).includes(v)) return 'synthetic-known';
  }
  return null;
}

export function provenanceOf(declared: Provenance | null, verdict: 'synthetic' | 'human'): Provenance {
  return declared ?? (verdict === 'synthetic' ? 'synthetic-suspected' : 'human-unverified');
}
