/**
 * Region labels by class-based TF-IDF (c-TF-IDF, as BERTopic defines it): all documents of a region form one class;
 *   W(t, c) = tf(t, c) / |c| × log(1 + A / f(t))
 * with tf(t, c) the count of word t in class c, |c| the words in c, A the mean words per class (over classes with
 * words) and f(t) the count of t over every class. The top words of a region are what it says more than the rest.
 *
 * Words: lowercased runs of letters and digits, at least 2 characters, not only digits ("000" of "1,000,000" says
 * nothing), not in a small English stopword list.
 * Counts are streamed, one text at a time. The vocabulary is capped (`vocabularyCap`, default 100,000 distinct
 * words): past it, the rarest words are pruned (counts ≤ m, m raised until half the cap is left), their words still
 * counted in |c|; a pruned word seen again starts from zero. So labels are exact while the corpus has at most
 * `vocabularyCap` distinct words, and `prunedWords` says when they were not.
 */

/** A region's distinctive word and its c-TF-IDF weight. */
export interface TopTerm {
  term: string;
  score: number;
}

export const DEFAULT_TOP_TERMS = 5;
export const DEFAULT_VOCABULARY_CAP = 100_000;

// Function words of English (articles, pronouns, auxiliaries, prepositions, conjunctions, common adverbs).
const STOPWORDS = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before being below between both ' +
    'but by can could did do does doing down during each few for from further had has have having he her here hers ' +
    'herself him himself his how if in into is it its itself just me more most my myself no nor not now of off on once ' +
    'only or other our ours ourselves out over own same she should so some such than that the their theirs them ' +
    'themselves then there these they this those through to too under until up very was we were what when where which ' +
    'while who whom why will with would you your yours yourself yourselves said says shall may might must us'
  ).split(' '),
);

/** The words c-TF-IDF counts in `text`. */
export function labelWords(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const w = m[0];
    if (w.length >= 2 && !/^\p{N}+$/u.test(w) && !STOPWORDS.has(w)) out.push(w);
  }
  return out;
}

/** Word counts per class, streamed document by document, with the vocabulary capped. */
export class ClassTermCounts {
  /** word → its count in each class. */
  private readonly counts = new Map<string, Float64Array>();
  /** Words per class (pruned words included). */
  readonly classWords: Float64Array;
  prunedWords = 0;

  constructor(
    readonly classes: number,
    readonly vocabularyCap = DEFAULT_VOCABULARY_CAP,
  ) {
    this.classWords = new Float64Array(classes);
  }

  add(cls: number, text: string): void {
    for (const w of labelWords(text)) {
      let row = this.counts.get(w);
      if (!row) {
        if (this.counts.size >= this.vocabularyCap) this.prune();
        row = new Float64Array(this.classes);
        this.counts.set(w, row);
      }
      row[cls]!++;
      this.classWords[cls]!++;
    }
  }

  get vocabulary(): number {
    return this.counts.size;
  }

  /** Drops the rarest words until at most half the cap is left. */
  private prune(): void {
    const total = (row: Float64Array) => row.reduce((a, b) => a + b, 0);
    for (let m = 1; this.counts.size > this.vocabularyCap / 2; m++) {
      for (const [w, row] of this.counts) {
        if (total(row) <= m) {
          this.counts.delete(w);
          this.prunedWords++;
        }
      }
    }
  }

  /** Per class, its `top` words by c-TF-IDF (ties by word), with their weights; [] for a class without words. */
  topTerms(top = DEFAULT_TOP_TERMS): TopTerm[][] {
    const withWords = this.classWords.filter((n) => n > 0);
    const mean = withWords.reduce((a, b) => a + b, 0) / Math.max(1, withWords.length);
    const best: TopTerm[][] = Array.from({ length: this.classes }, () => []);
    for (const [term, row] of this.counts) {
      const idf = Math.log(1 + mean / row.reduce((a, b) => a + b, 0));
      for (let c = 0; c < this.classes; c++) {
        if (!row[c]) continue;
        const score = (row[c]! / this.classWords[c]!) * idf;
        const list = best[c]!;
        if (list.length === top && !before({ term, score }, list[top - 1]!)) continue;
        list.push({ term, score });
        list.sort((a, b) => (before(a, b) ? -1 : 1));
        if (list.length > top) list.pop();
      }
    }
    return best;
  }
}

/** Higher score first; equal scores by word. */
function before(a: TopTerm, b: TopTerm): boolean {
  return a.score > b.score || (a.score === b.score && a.term < b.term);
}

/** A region's label: its top words joined by ", " ('' for a region without words). */
export function labelOf(terms: TopTerm[]): string {
  return terms.map((t) => t.term).join(', ');
}
