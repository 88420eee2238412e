/**
 * Entity-level precision, recall and F1 for BIO tagging, as conlleval computes them and as
 * seqeval does in its default (conlleval-compatible) mode, plus token accuracy.
 *
 * Entities are read from each sentence's tags by conlleval's chunk rules, which are lenient:
 * an entity starts at `B-<type>`, and also at an `I-<type>` that does not continue an entity of
 * its type (after `O`, at the sentence start, or after another type); it ends before `O`, before
 * `B-`, before a tag of another type, and at the sentence end. So `B-x B-x` is two entities,
 * `O I-x I-x` is one, and `B-x I-y` is two. (`E-` and `S-` tags, for IOBES data, end an entity
 * and open a one-token entity as seqeval reads them.) A predicted entity is correct when a gold
 * entity has the same type, start and end. Precision, recall and F1 are micro-averaged over all
 * entities and are 0, not NaN, when there is nothing to divide by, as seqeval returns them.
 *
 * @module
 */

/** One entity: its type and token range in its sentence. */
export interface Entity {
  /** The entity type (`person` for `B-person`). */
  type: string;
  /** First token. */
  start: number;
  /** One past the last token. */
  end: number;
}

function split(tag: string): [prefix: string, type: string] {
  if (tag === "O" || tag.length < 2) return ["O", ""];
  return [tag[0], tag[1] === "-" ? tag.slice(2) : tag.slice(1)];
}

function endsBefore(prev: string, prevType: string, tag: string, type: string): boolean {
  if (prev === "O") return false;
  if (prev === "E" || prev === "S") return true;
  return tag === "B" || tag === "S" || tag === "O" || prevType !== type;
}

function startsAt(prev: string, prevType: string, tag: string, type: string): boolean {
  if (tag === "O") return false;
  if (tag === "B" || tag === "S") return true;
  return prev === "O" || prev === "E" || prev === "S" || prevType !== type;
}

/**
 * The entities in one sentence's tags, by conlleval's rules.
 *
 * @example `I-` opening an entity, and two adjacent entities of one type
 * ```ts
 * import { bioEntities } from "./ner_metrics.ts";
 * const e = bioEntities(["O", "I-loc", "I-loc", "B-per", "B-per", "I-per"]);
 * if (JSON.stringify(e.map((x) => [x.type, x.start, x.end])) !==
 *   '[["loc",1,3],["per",3,4],["per",4,6]]') throw new Error(JSON.stringify(e));
 * ```
 */
export function bioEntities(tags: readonly string[]): Entity[] {
  const out: Entity[] = [];
  let prev = "O", prevType = "", start = -1;
  for (let i = 0; i <= tags.length; i++) {
    const [tag, type] = i < tags.length ? split(tags[i]) : ["O", ""];
    if (start >= 0 && endsBefore(prev, prevType, tag, type)) {
      out.push({ type: prevType, start, end: i });
      start = -1;
    }
    if (startsAt(prev, prevType, tag, type)) start = i;
    [prev, prevType] = [tag, type];
  }
  return out;
}

/** Entity counts of one type, or of all types together. */
export interface EntityCounts {
  /** Gold entities. */
  gold: number;
  /** Predicted entities. */
  predicted: number;
  /** Predicted entities that match a gold one exactly. */
  correct: number;
}

/** `{ precision, recall, f1 }` of counts; each 0 when its denominator is 0. */
export function prf(c: EntityCounts): { precision: number; recall: number; f1: number } {
  const precision = c.predicted > 0 ? c.correct / c.predicted : 0;
  const recall = c.gold > 0 ? c.correct / c.gold : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/**
 * Entity counts overall (key `""`) and per type, over sentences.
 *
 * @throws {TypeError} When the two sides have different sentence counts or sentence lengths.
 */
export function entityCounts(
  predicted: readonly (readonly string[])[],
  gold: readonly (readonly string[])[],
): Map<string, EntityCounts> {
  if (predicted.length !== gold.length) {
    throw new TypeError(
      `Cannot score entities: ${predicted.length} predicted sentences but ${gold.length} gold ones`,
    );
  }
  const counts = new Map<string, EntityCounts>([["", { gold: 0, predicted: 0, correct: 0 }]]);
  const of = (type: string) => {
    let c = counts.get(type);
    if (c === undefined) counts.set(type, c = { gold: 0, predicted: 0, correct: 0 });
    return c;
  };
  for (let s = 0; s < gold.length; s++) {
    if (predicted[s].length !== gold[s].length) {
      throw new TypeError(
        `Cannot score entities: sentence ${s} has ${predicted[s].length} predicted tags but ${
          gold[s].length
        } gold tags`,
      );
    }
    const goldKeys = new Set<string>();
    for (const e of bioEntities(gold[s])) {
      goldKeys.add(`${e.type}\u0000${e.start}\u0000${e.end}`);
      of("").gold++;
      of(e.type).gold++;
    }
    for (const e of bioEntities(predicted[s])) {
      of("").predicted++;
      of(e.type).predicted++;
      if (goldKeys.has(`${e.type}\u0000${e.start}\u0000${e.end}`)) {
        of("").correct++;
        of(e.type).correct++;
      }
    }
  }
  return counts;
}

/**
 * `{ precision, recall, f1, accuracy }`: micro-averaged entity scores (conlleval, seqeval's
 * default mode) and the fraction of tokens whose tag is right.
 *
 * @param predicted Predicted tags, one array per sentence.
 * @param gold Gold tags, aligned with `predicted`.
 * @throws {TypeError} When the sentences do not align. @throws {RangeError} Without any token.
 * @example
 * ```ts
 * import { entityMetrics } from "./ner_metrics.ts";
 * const m = entityMetrics([["B-per", "O", "B-loc"]], [["B-per", "O", "O"]]);
 * if (m.precision !== 0.5 || m.recall !== 1 || m.accuracy !== 2 / 3) throw new Error();
 * ```
 */
export function entityMetrics(
  predicted: readonly (readonly string[])[],
  gold: readonly (readonly string[])[],
): { precision: number; recall: number; f1: number; accuracy: number } {
  const all = entityCounts(predicted, gold).get("")!;
  let tokens = 0, right = 0;
  gold.forEach((g, s) => {
    tokens += g.length;
    for (let i = 0; i < g.length; i++) if (predicted[s][i] === g[i]) right++;
  });
  if (tokens === 0) throw new RangeError("Cannot score entities: there are no tokens");
  return { ...prf(all), accuracy: right / tokens };
}
