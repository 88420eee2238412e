/**
 * The words and sentence grammar of the demo suite (`demo_suite.ts`), and one example maker
 * per task. Private to `lib/data`.
 *
 * Every sentence is a short "review": one to three opinion phrases, each worth ±1 (mild
 * word) or ±2 (strong word), its sign flipped by "not"/"never" right before it, among
 * neutral clauses whose content words keep to one of six topics. Its rating is the sum.
 * All three tasks read ratings: the sign (sentiment), which of two is higher (comparison),
 * their sum on a 0–5 scale (rating). The pair tasks thus combine the two segments through a
 * quantity each segment carries additively; a random-init tiny BERT learns that within a
 * few hundred steps, whereas lexical matching across segments (an overlap-based paraphrase
 * or similarity task) stayed at chance after 800 steps in a PyTorch check. The rating
 * task also gives the densest gradient, which in the same check lifted the other two.
 *
 * @module
 */

import type { SeededRng } from "./rng.ts";

const w = (s: string): readonly string[] => Object.freeze(s.split(" "));

interface Topic {
  nouns: readonly string[];
  verbs: readonly string[];
  adjs: readonly string[];
}

const topic = (nouns: string, verbs: string, adjs: string): Topic =>
  Object.freeze({ nouns: w(nouns), verbs: w(verbs), adjs: w(adjs) });

// Verbs are regular and take a plain "-ed"/"-d", nouns a plain "-s" (see `surface`).
const TOPICS: readonly Topic[] = Object.freeze([
  topic(
    "bread soup cake apple tea plate cup mug kitchen oven dinner supper",
    "cook bake taste serve boil slice mix heat pour",
    "fresh sweet salty hot",
  ),
  topic(
    "train car bike boat ship ticket station road street bridge map driver",
    "park board steer tow pass",
    "fast crowded narrow long",
  ),
  topic(
    "teacher tutor student book letter desk pen office school lesson paper clock",
    "print mark sign answer check count list",
    "blank neat quiet silent",
  ),
  topic(
    "river lake forest wood mountain beach island field garden tree flower hill",
    "climb plant water hike explore visit",
    "green wild deep tall",
  ),
  topic(
    "cat dog bird horse cow goat farmer barn puppy kitten",
    "brush groom milk chase walk",
    "brown hungry young furry",
  ),
  topic(
    "house home door window table chair lamp shelf bag key phone camera",
    "open clean paint lift raise move pack lock fix repair",
    "wooden heavy empty round",
  ),
]);

const DETS = w("the a this that my our your their one every");
const PLURAL_DETS = w("the some my our your their these those");
const PRONOUNS = w("i we they she he");
const ADVS = w("today yesterday again later there outside together");
const PREPS = w("in on near behind under with from into across beside");
const POS = [
  w("good nice fine pleasant decent helpful friendly lovely"),
  w(
    "excellent wonderful amazing brilliant fantastic superb delightful perfect",
  ),
];
const NEG = [
  w("bad poor dull boring rude slow messy weak"),
  w(
    "terrible awful horrible dreadful disgusting useless miserable horrid",
  ),
];
const NEGATORS = w("not never");
const INTENSIFIERS = w("very really quite so rather");
const COPULAS = w("was is seemed felt looked");
const OTHER = w("thought and but");
const PIECES = w("##s ##ed ##d");
const SPECIALS = w("[PAD] [UNK] [CLS] [SEP] [MASK]");

/**
 * The demo vocabulary for `BertTokenizer.fromVocab(tokens, { doLowerCase: true })`: `[PAD]`
 * is id 0, then `[UNK] [CLS] [SEP] [MASK]`, `.` and `,`, every word once, and the suffix
 * pieces that plurals and past tenses split into (`dogs` → `dog ##s`).
 *
 * @returns A fresh array (the same every call).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { demoVocab } from "./_demo_grammar.ts";
 * const vocab = demoVocab();
 * assert.equal(vocab[0], "[PAD]");
 * assert.equal(new Set(vocab).size, vocab.length);
 * ```
 */
export function demoVocab(): string[] {
  const content = TOPICS.flatMap((t) => [...t.nouns, ...t.verbs, ...t.adjs]);
  const groups = [DETS, PLURAL_DETS, PRONOUNS, content, ADVS, PREPS, ...POS, ...NEG];
  groups.push(NEGATORS, INTENSIFIERS, COPULAS, OTHER);
  return [...SPECIALS, ".", ",", ...new Set(groups.flat()), ...PIECES];
}

// ---- Sentences ---------------------------------------------------------------------------

type Cat = "noun" | "verb" | "adj" | "func";
interface Word {
  lemma: string;
  cat: Cat;
  plural?: boolean;
}

const pick = <T>(r: SeededRng, xs: readonly T[]): T => xs[r.int(xs.length)];
const fn = (lemma: string): Word => ({ lemma, cat: "func" });
const canPlural = (noun: string) => /[^sxyh]$/.test(noun);

function surface(word: Word): string {
  if (word.cat === "verb") return word.lemma + (word.lemma.endsWith("e") ? "d" : "ed");
  return word.plural ? word.lemma + "s" : word.lemma;
}

function render(words: readonly Word[]): string {
  return words.map(surface).join(" ").replace(/ ,/g, ",") + " .";
}

function nounPhrase(r: SeededRng, t: number, adjRate = 0.35, pluralRate = 0.25): Word[] {
  const noun = pick(r, TOPICS[t].nouns);
  const plural = canPlural(noun) && r.next() < pluralRate;
  const out = [fn(pick(r, plural ? PLURAL_DETS : DETS))];
  if (r.next() < adjRate) out.push({ lemma: pick(r, TOPICS[t].adjs), cat: "adj" });
  out.push({ lemma: noun, cat: "noun", plural });
  return out;
}

/** Subject, past-tense verb, object, maybe a prepositional phrase and an adverb: 4–12 words. */
function clause(r: SeededRng, t: number): Word[] {
  const subject = r.next() < 0.2 ? [fn(pick(r, PRONOUNS))] : nounPhrase(r, t);
  const out = [...subject, { lemma: pick(r, TOPICS[t].verbs), cat: "verb" as Cat }];
  out.push(...nounPhrase(r, t));
  if (r.next() < 0.4) out.push(fn(pick(r, PREPS)), ...nounPhrase(r, t));
  if (r.next() < 0.25) out.push(fn(pick(r, ADVS)));
  return out;
}

// ---- Reviews -----------------------------------------------------------------------------

const NEGATION_RATE = 0.12;

/** An opinion phrase worth `score` (±1 mild, ±2 strong, sign flipped by a negator). */
function opinion(r: SeededRng): { words: Word[]; score: number } {
  const t = r.int(TOPICS.length);
  const positive = r.next() < 0.5, strong = r.next() < 0.5;
  const adj = fn(pick(r, (positive ? POS : NEG)[strong ? 1 : 0]));
  let score = (positive ? 1 : -1) * (strong ? 2 : 1);
  const intens = r.next() < 0.3 ? [fn(pick(r, INTENSIFIERS))] : [];
  const kind = r.int(3);
  if (kind === 2) { // attributive, never negated: "we cleaned a really awful lamp"
    const subject = r.next() < 0.5 ? [fn(pick(r, PRONOUNS))] : nounPhrase(r, t, 0);
    const verb: Word = { lemma: pick(r, TOPICS[t].verbs), cat: "verb" };
    const noun: Word = { lemma: pick(r, TOPICS[t].nouns), cat: "noun" };
    return { words: [...subject, verb, fn(pick(r, DETS)), ...intens, adj, noun], score };
  }
  const neg = r.next() < NEGATION_RATE ? [fn(pick(r, NEGATORS))] : [];
  if (neg.length) score = -score;
  const head = kind === 0
    ? [...nounPhrase(r, t, 0, 0), fn(pick(r, COPULAS))]
    : [fn(pick(r, PRONOUNS)), fn("thought"), ...nounPhrase(r, t, 0, 0), fn("was")];
  return { words: [...head, ...neg, ...intens, adj], score };
}

/** A neutral distractor: a plain clause, or a copula with a topic adjective. */
function distractor(r: SeededRng): Word[] {
  const t = r.int(TOPICS.length);
  if (r.next() < 0.5) return clause(r, t);
  const intens = r.next() < 0.3 ? [fn(pick(r, INTENSIFIERS))] : [];
  return [...nounPhrase(r, t, 0, 0), fn(pick(r, COPULAS)), ...intens, fn(pick(r, TOPICS[t].adjs))];
}

/** A review of 5…`maxWords` words with up to `maxOpinions` opinion phrases, and its rating. */
function review(
  r: SeededRng,
  maxOpinions: number,
  maxWords: number,
): { text: string; score: number } {
  for (;;) {
    let count = 1;
    while (count < maxOpinions && r.next() < 0.45) count++;
    const parts: Word[][] = [];
    let score = 0;
    for (let i = 0; i < count; i++) {
      const p = opinion(r);
      parts.push(p.words);
      score += p.score;
    }
    if (r.next() < 0.4) parts.splice(r.int(parts.length + 1), 0, distractor(r));
    const words = parts.flatMap((p, i) => (i === 0 ? p : [fn(pick(r, ["and", "but", ","])), ...p]));
    if (words.length >= 5 && words.length <= maxWords) return { text: render(words), score };
  }
}

/**
 * The rating of a review as the demo defines it, recomputed from its text: the sum over
 * opinion words of ±1 (mild) or ±2 (strong), negated when "not" or "never" comes before it
 * in the same phrase (up to the next "and", "but", "," or "."). Tests use it to check labels.
 *
 * @example
 * ```ts
 * import { reviewRating } from "./_demo_grammar.ts";
 * if (reviewRating("the soup was not very good, we loved a superb cake .") !== 1) throw new Error();
 * ```
 */
export function reviewRating(text: string): number {
  let score = 0, negated = false;
  for (const word of text.replace(/([,.])/g, " $1 ").split(/\s+/)) {
    if (NEGATORS.includes(word)) negated = true;
    else if (["and", "but", ",", "."].includes(word)) negated = false;
    const polarity = POS[0].includes(word)
      ? 1
      : POS[1].includes(word)
      ? 2
      : NEG[0].includes(word)
      ? -1
      : NEG[1].includes(word)
      ? -2
      : 0;
    score += negated ? -polarity : polarity;
  }
  return score;
}

// ---- Tasks -------------------------------------------------------------------------------

const SINGLE_MAX_WORDS = 20;
const PAIR_MAX_WORDS = 12;

/** A sentiment sentence with the given label (1 = rating above 0), as `[textA, null, label]`. */
export function sentimentExample(r: SeededRng, label: number): [string, null, number] {
  for (;;) {
    const { text, score } = review(r, 3, SINGLE_MAX_WORDS);
    if (score !== 0 && (score > 0 ? 1 : 0) === label) return [text, null, label];
  }
}

/** A comparison pair with the given label (1 = B rated higher than A; never a tie). */
export function comparisonExample(r: SeededRng, label: number): [string, string, number] {
  for (;;) { // a new A each time: no B is rated above the best possible A
    const a = review(r, 2, PAIR_MAX_WORDS), b = review(r, 2, PAIR_MAX_WORDS);
    if (b.score !== a.score && (b.score > a.score ? 1 : 0) === label) {
      return [a.text, b.text, label];
    }
  }
}

/** The rating task's score of two reviews: 2.5 + 0.625 · (rating A + rating B), clipped to [0, 5]. */
export function jointRating(a: number, b: number): number {
  return Math.min(5, Math.max(0, 2.5 + 0.625 * (a + b)));
}

/**
 * A rating pair as `[textA, textB, score]`, the score {@linkcode jointRating} of the two
 * reviews; the nine levels 0, 0.625, …, 5 come equally often.
 */
export function ratingExample(r: SeededRng): [string, string, number] {
  const target = r.int(9) - 4; // ±4 stand for "4 or more" and "-4 or less"
  for (;;) {
    const a = review(r, 2, PAIR_MAX_WORDS), b = review(r, 2, PAIR_MAX_WORDS);
    const sum = a.score + b.score;
    if (sum === target || (Math.abs(target) === 4 && sum * target >= 16)) {
      return [a.text, b.text, jointRating(a.score, b.score)];
    }
  }
}
