/**
 * Label Studio, both ways. Out: one task per queued document, `data: {id, text, reasons, why}`, and a labeling config
 * with a single-choice `verdict` (human / machine / unsure) and a free-text `comment`. In: Label Studio's JSON export
 * (an array of tasks, each with its `annotations`), one decision per annotation that was not cancelled: the choice of
 * `verdict`, the text of `comment`, the annotator (`completed_by`: an email when the export carries the user, else
 * `user:<n>`) and the annotation's `updated_at` (else `created_at`).
 */
import { TailguardError } from '../errors.js';

export const LABEL_STUDIO_CONFIG = `<View>
  <Header value="Why this document is here: $why"/>
  <Text name="text" value="$text"/>
  <Choices name="verdict" toName="text" choice="single" showInline="true" required="true">
    <Choice value="human"/>
    <Choice value="machine"/>
    <Choice value="unsure"/>
  </Choices>
  <TextArea name="comment" toName="text" placeholder="Why (optional)" maxSubmissions="1" editable="true"/>
</View>
`;

export interface LabelStudioTask {
  data: { id: string; text: string; reasons: string; why: string };
}

export function labelStudioTasks(
  rows: readonly { id: string; text: string | null; reasons: readonly string[]; why: string }[],
): LabelStudioTask[] {
  return rows.map((r) => ({ data: { id: r.id, text: r.text ?? '', reasons: r.reasons.join('; '), why: r.why } }));
}

/** One annotation of a Label Studio export, as a decision (verdict null: the annotation chose nothing). */
export interface LabelStudioDecision {
  id: string;
  verdict: string | null;
  reviewer: string | null;
  time: string | null;
  reason: string | null;
  /** Where in the export: "task N (Label Studio id X), annotation M". */
  at: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Whether parsed JSON looks like a Label Studio export (an array of tasks with `data` and `annotations`). */
export function isLabelStudioExport(json: unknown): json is Obj[] {
  return Array.isArray(json) && json.length > 0 && json.every((t) => isObj(t) && isObj(t.data) && 'annotations' in t);
}

function reviewerOf(by: unknown): string | null {
  if (isObj(by)) return typeof by.email === 'string' ? by.email : by.id !== undefined ? `user:${String(by.id)}` : null;
  if (typeof by === 'number' || typeof by === 'string') return `user:${by}`;
  return null;
}

/** Every annotation of the export that was not cancelled, in order; `skipped` counts cancelled ones. */
export function labelStudioDecisions(
  path: string,
  tasks: Obj[],
): { decisions: LabelStudioDecision[]; skipped: number } {
  const decisions: LabelStudioDecision[] = [];
  let skipped = 0;
  tasks.forEach((task, i) => {
    const data = task.data as Obj;
    const where = `task ${i + 1} (Label Studio id ${String(task.id ?? '?')})`;
    const id = typeof data.id === 'string' || typeof data.id === 'number' ? String(data.id) : '';
    if (id === '') throw new TailguardError(`${path}: ${where}: no \`data.id\` (the queue's document id)`);
    const annotations = Array.isArray(task.annotations) ? task.annotations : [];
    annotations.forEach((a: unknown, j) => {
      if (!isObj(a)) throw new TailguardError(`${path}: ${where}: annotation ${j + 1} is not an object`);
      if (a.was_cancelled === true) {
        skipped++;
        return;
      }
      const result = Array.isArray(a.result) ? a.result.filter(isObj) : [];
      const value = (name: string): Obj | undefined => {
        const r = result.find((x) => x.from_name === name);
        return r && isObj(r.value) ? r.value : undefined;
      };
      const choices = value('verdict')?.choices;
      if (Array.isArray(choices) && choices.length > 1)
        throw new TailguardError(`${path}: ${where}, annotation ${j + 1}: several verdicts (${choices.join(', ')})`);
      const text = value('comment')?.text;
      const reason = Array.isArray(text) ? text.map(String).join('\n') : typeof text === 'string' ? text : null;
      const time = [a.updated_at, a.created_at].find((t): t is string => typeof t === 'string') ?? null;
      decisions.push({
        id,
        verdict: Array.isArray(choices) && choices.length === 1 ? String(choices[0]) : null,
        reviewer: reviewerOf(a.completed_by),
        time,
        reason: reason === '' ? null : reason,
        at: `${where}, annotation ${j + 1}`,
      });
    });
  });
  return { decisions, skipped };
}
