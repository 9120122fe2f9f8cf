/**
 * Matching a compiled pattern against an event (a parsed JSON object).
 *
 * Semantics follow event-ruler's JSON-event matching, which EventBridge, SNS and Lambda share:
 * - a field's values are the scalar leaves found at its dotted path (`a.b` reaches both `{"a":{"b":..}}`
 *   and `{"a.b":..}`); arrays anywhere on the path contribute each element, so a pattern value
 *   matches an array when it matches any element; objects are never leaf values (`exists` does not
 *   match an intermediate node) and an empty array contributes no value;
 * - `{"exists": false}` matches when the path has no leaf value at all;
 * - fields of one branch must be satisfied by leaves from the *same* element of any array they share
 *   (event-ruler's array consistency): `{"a":{"b":[1],"c":[2]}}` does not match
 *   `{"a":[{"b":1,"c":9},{"b":9,"c":2}]}`.
 */
import type { Branch, CompiledPattern, Field, Scalar } from './types.ts';

/** Which element of which array a leaf came from (a linked list; null when no array was crossed). */
interface Membership {
  readonly arr: readonly unknown[];
  readonly idx: number;
  readonly next: Membership | null;
}

function collect(
  node: unknown,
  f: Field,
  i: number,
  m: Membership | null,
  out: (Membership | null)[],
  values: Scalar[],
): void {
  if (node === undefined) return;
  if (Array.isArray(node)) {
    for (let k = 0; k < node.length; k++) collect(node[k], f, i, { arr: node, idx: k, next: m }, out, values);
    return;
  }
  if (i === f.n) {
    if (node !== null && typeof node === 'object') return;
    if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean' || node === null) {
      out.push(m);
      values.push(node);
    }
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  const row = f.keys[i];
  for (let j = i; j < f.n; j++) {
    const key = row[j];
    if (Object.hasOwn(obj, key)) collect(obj[key], f, j + 1, m, out, values);
  }
}

function compatible(a: Membership | null, b: Membership | null): boolean {
  for (let x = a; x !== null; x = x.next) {
    for (let y = b; y !== null; y = y.next) if (x.arr === y.arr && x.idx !== y.idx) return false;
  }
  return true;
}

function join(choices: (Membership | null)[][], k: number, chosen: (Membership | null)[]): boolean {
  if (k === choices.length) return true;
  for (const m of choices[k]) {
    let ok = true;
    for (let c = 0; c < k && ok; c++) ok = compatible(chosen[c], m);
    if (!ok) continue;
    chosen[k] = m;
    if (join(choices, k + 1, chosen)) return true;
  }
  return false;
}

const NONE: (Membership | null)[] = [null];

function matchBranch(branch: Branch, event: object): boolean {
  let choices: (Membership | null)[][] | undefined;
  let crossedArray = false;
  for (let fi = 0; fi < branch.length; fi++) {
    const f = branch[fi];
    const memberships: (Membership | null)[] = [];
    const values: Scalar[] = [];
    collect(event, f, 0, null, memberships, values);
    let ok: (Membership | null)[];
    if (values.length === 0) {
      if (!f.absent) return false;
      ok = NONE;
    } else {
      ok = [];
      for (let h = 0; h < values.length; h++) {
        const v = values[h];
        for (const pred of f.preds) {
          if (pred(v)) {
            ok.push(memberships[h]);
            if (memberships[h] !== null) crossedArray = true;
            break;
          }
        }
      }
      if (ok.length === 0) return false;
    }
    (choices ??= []).push(ok);
  }
  if (!crossedArray || choices === undefined) return true;
  return join(choices, 0, []);
}

/** Whether `event` (a parsed JSON object) matches the compiled pattern. Non-objects never match. */
export function matches(p: CompiledPattern, event: unknown): boolean {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return false;
  for (const b of p.branches) if (matchBranch(b, event)) return true;
  return false;
}
