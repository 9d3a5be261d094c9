/**
 * The sources of ../shared/corpora/human whose licence lets the trained weights ship with tailguard
 * (MANIFEST.md: public domain, PDDL/CC0, MIT/Apache, BSD-style, CC BY-SA). The research-only sources
 * (imdb_reviews, blog_authorship, 20newsgroups, reuters21578, brown_corpus, bbc_news) are never trained on;
 * they stay in the held-out evaluation as human text the model has not seen the like of.
 */
export const TRAINING_SOURCES: Readonly<Record<string, string>> = {
  gutenberg_books: 'Public domain (US) works, Project Gutenberg licence text removed',
  miller_center_speeches: 'Public domain (17 U.S.C. §105)',
  sotu_addresses: 'PDDL-1.0 AND CC0-1.0; US public domain',
  python_peps: 'Public domain / CC0-1.0',
  spamassassin_ham: 'PDDL-1.0 AND CC0-1.0',
  rust_rfcs: 'MIT OR Apache-2.0',
  kjv_bible: 'Public domain',
  stackexchange: 'CC BY-SA 3.0/4.0 (attribution: site + post id)',
  fortunes: 'BSD-style (Debian fortunes-min/fortunes copyright)',
  jargon_file: 'Public domain',
  devils_dictionary: 'Public domain',
};
