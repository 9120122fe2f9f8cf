/** The pattern dialects Eddy speaks. One grammar (aws/event-ruler's), different operator sets and limits. */
export type Dialect = 'eventbridge' | 'sns-attributes' | 'sns-body' | 'lambda';

/** A scalar leaf value of an event: what operators are applied to. */
export type Scalar = string | number | boolean | null;

/** A test on one leaf value. */
export type Predicate = (v: Scalar) => boolean;

/** One pattern field: a dotted path (as event-ruler joins names) and the OR of its match values. */
export interface Field {
  /** The dotted path, e.g. `detail.state` (`$or` never appears in it). */
  readonly path: string;
  /** Number of path segments. */
  readonly n: number;
  /**
   * `keys[i][j]` is segments i..j joined with '.', so `{"a.b": ...}` in an event matches the pattern
   * path `a.b` just as `{"a": {"b": ...}}` does (event-ruler flattens both to the same name).
   */
  readonly keys: readonly (readonly string[])[];
  /** Tests on present leaf values (exists:true is a test that accepts any value). */
  readonly preds: readonly Predicate[];
  /** Whether `{"exists": false}` is one of the values (matches when the path has no leaf value). */
  readonly absent: boolean;
}

/** One AND-branch: all fields must match (with array-element consistency). `$or` forks branches. */
export type Branch = readonly Field[];

export interface CompiledPattern {
  readonly dialect: Dialect;
  /** The pattern text that was compiled. */
  readonly source: string;
  /** The event matches when any branch matches. */
  readonly branches: readonly Branch[];
}
