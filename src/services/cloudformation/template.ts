import { createRequire } from 'node:module';
import type { Tags } from 'yaml';

// YAML is loaded on the first YAML template, keeping it off Eddy's startup path.
let yaml: typeof import('yaml') | undefined;
const loadYaml = () => (yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));

import { validationError } from './errors.ts';

/** A template as CloudFormation reads it (JSON or YAML, short-form intrinsics expanded). */
export interface Template {
  AWSTemplateFormatVersion?: string;
  Description?: string;
  Metadata?: Record<string, unknown>;
  Parameters?: Record<string, ParameterDecl>;
  Rules?: Record<string, { RuleCondition?: unknown; Assertions?: { Assert: unknown; AssertDescription?: string }[] }>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
  Transform?: unknown;
  Resources: Record<string, ResourceDecl>;
  Outputs?: Record<string, OutputDecl>;
}

export interface ParameterDecl {
  Type: string;
  Default?: unknown;
  AllowedValues?: unknown[];
  AllowedPattern?: string;
  MinLength?: number | string;
  MaxLength?: number | string;
  MinValue?: number | string;
  MaxValue?: number | string;
  NoEcho?: boolean | string;
  Description?: string;
  ConstraintDescription?: string;
}

export interface ResourceDecl {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  Condition?: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Metadata?: Record<string, unknown>;
  CreationPolicy?: unknown;
  UpdatePolicy?: unknown;
}

export interface OutputDecl {
  Value: unknown;
  Description?: string;
  Condition?: string;
  Export?: { Name: unknown };
}

const SHORT_FNS = [
  'And',
  'Base64',
  'Cidr',
  'Contains',
  'EachMemberEquals',
  'EachMemberIn',
  'Equals',
  'FindInMap',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Length',
  'Not',
  'Or',
  'RefAll',
  'Select',
  'Split',
  'Sub',
  'ToJsonString',
  'Transform',
  'ValueOf',
  'ValueOfAll',
];

/** YAML short forms (`!Ref`, `!Sub`, `!GetAtt a.b`, ...) for scalars, sequences and maps. */
const CUSTOM_TAGS: Tags = (() => {
  const tags: Tags = [];
  const getAtt = (v: unknown) => {
    if (typeof v !== 'string') return { 'Fn::GetAtt': v };
    const i = v.indexOf('.');
    return { 'Fn::GetAtt': i < 0 ? [v] : [v.slice(0, i), v.slice(i + 1)] };
  };
  for (const kind of ['scalar', 'seq', 'map'] as const) {
    const mk = (tag: string, fn: (v: unknown) => unknown) =>
      kind === 'scalar'
        ? { tag, resolve: (s: string) => fn(s) }
        : { tag, collection: kind, resolve: (n: { toJSON(): unknown }) => fn(n.toJSON()) };
    for (const f of SHORT_FNS) tags.push(mk(`!${f}`, (v) => ({ [`Fn::${f}`]: v })) as never);
    tags.push(mk('!Ref', (v) => ({ Ref: v })) as never);
    tags.push(mk('!Condition', (v) => ({ Condition: v })) as never);
    tags.push(mk('!GetAtt', getAtt) as never);
  }
  return tags;
})();

/** Parse a template body: JSON when it looks like JSON, else YAML. Errors as CloudFormation words them. */
export function parseTemplate(body: string): Template {
  let t: unknown;
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      t = JSON.parse(body);
    } catch (e) {
      throw validationError(`Template format error: JSON not well-formed. (${(e as Error).message})`);
    }
  } else {
    try {
      t = loadYaml().parse(body, { customTags: CUSTOM_TAGS, uniqueKeys: true, maxAliasCount: 1000 });
    } catch (e) {
      throw validationError(`Template format error: YAML not well-formed. ${(e as Error).message.split('\n')[0]}`);
    }
  }
  if (!t || typeof t !== 'object' || Array.isArray(t))
    throw validationError('Template format error: not a valid template');
  return checkStructure(t as Template);
}

const TOP_LEVEL = new Set([
  'AWSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Rules',
  'Mappings',
  'Conditions',
  'Transform',
  'Resources',
  'Outputs',
  'Hooks',
]);

function checkStructure(t: Template): Template {
  for (const k of Object.keys(t))
    if (!TOP_LEVEL.has(k))
      throw validationError(`Template format error: Invalid template property or properties [${k}]`);
  if (t.AWSTemplateFormatVersion !== undefined && String(t.AWSTemplateFormatVersion) !== '2010-09-09')
    throw validationError(
      `Template format error: '${String(t.AWSTemplateFormatVersion)}' is not a supported AWSTemplateFormatVersion value.`,
    );
  if (t.Transform !== undefined) {
    const names = (Array.isArray(t.Transform) ? t.Transform : [t.Transform]).map((x) =>
      typeof x === 'string' ? x : JSON.stringify(x),
    );
    throw validationError(`Transform ${names.join(', ')} is not supported by Eddy`);
  }
  if ((t as { Hooks?: unknown }).Hooks !== undefined) throw validationError('Template Hooks are not supported by Eddy');
  if (!t.Resources || typeof t.Resources !== 'object' || !Object.keys(t.Resources).length)
    throw validationError('Template format error: At least one Resources member must be defined.');
  const ids = new Set<string>();
  for (const section of ['Parameters', 'Resources', 'Outputs', 'Conditions', 'Mappings'] as const) {
    const s = t[section];
    if (s === undefined) continue;
    if (typeof s !== 'object' || Array.isArray(s) || s === null)
      throw validationError(`Template format error: ${section} must be an object`);
    for (const id of Object.keys(s))
      if (!/^[A-Za-z0-9]+$/.test(id))
        throw validationError(`Template format error: ${section} name '${id}' is non alphanumeric.`);
  }
  for (const [id, r] of Object.entries(t.Resources)) {
    if (!r || typeof r !== 'object' || typeof r.Type !== 'string')
      throw validationError(
        `Template format error: [/Resources/${id}] Every Resources object must contain a Type member.`,
      );
    ids.add(id);
  }
  for (const id of Object.keys(t.Parameters ?? {})) {
    if (ids.has(id)) throw validationError(`Template format error: Resource name ${id} is non-unique.`);
    const p = t.Parameters![id];
    if (!p || typeof p !== 'object' || typeof p.Type !== 'string')
      throw validationError(`Template format error: Every Parameters object must contain a Type member.`);
  }
  for (const [id, o] of Object.entries(t.Outputs ?? {})) {
    if (!o || typeof o !== 'object' || !('Value' in o))
      throw validationError(
        `Template format error: Every Outputs member must contain a Value object, the Outputs member ${id} is invalid`,
      );
  }
  return t;
}

export const PSEUDO = new Set([
  'AWS::AccountId',
  'AWS::Region',
  'AWS::StackName',
  'AWS::StackId',
  'AWS::Partition',
  'AWS::URLSuffix',
  'AWS::NoValue',
  'AWS::NotificationARNs',
]);

/** The names a value refers to: Ref, Fn::GetAtt and `${...}` inside Fn::Sub (minus Sub's own variables). */
export function references(v: unknown, out: Set<string> = new Set(), local: Set<string> = new Set()): Set<string> {
  if (Array.isArray(v)) {
    for (const x of v) references(x, out, local);
    return out;
  }
  if (!v || typeof v !== 'object') return out;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const k = keys[0];
    const arg = o[k];
    if (k === 'Ref' && typeof arg === 'string') {
      if (!local.has(arg)) out.add(arg);
      return out;
    }
    if (k === 'Fn::GetAtt') {
      const name = Array.isArray(arg) ? arg[0] : typeof arg === 'string' ? arg.split('.')[0] : undefined;
      if (typeof name === 'string') out.add(name);
      if (Array.isArray(arg)) references(arg.slice(1), out, local);
      return out;
    }
    if (k === 'Fn::Sub') {
      const [str, vars] = Array.isArray(arg) ? arg : [arg, undefined];
      const inner = new Set(local);
      if (vars && typeof vars === 'object') {
        for (const name of Object.keys(vars as object)) inner.add(name);
        references(vars, out, local);
      }
      if (typeof str === 'string') {
        for (const m of str.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const name = m[1].trim().split('.')[0];
          if (!inner.has(name)) out.add(name);
        }
      }
      return out;
    }
  }
  for (const x of Object.values(o)) references(x, out, local);
  return out;
}

/** Condition names a value uses through Fn::If and Condition. */
export function conditionRefs(v: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(v)) {
    for (const x of v) conditionRefs(x, out);
    return out;
  }
  if (!v || typeof v !== 'object') return out;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o['Fn::If']) && typeof o['Fn::If'][0] === 'string') out.add(o['Fn::If'][0]);
  if (typeof o.Condition === 'string' && Object.keys(o).length === 1) out.add(o.Condition);
  for (const x of Object.values(o)) conditionRefs(x, out);
  return out;
}

/** Resource dependencies (DependsOn + references to other resources), checked for unknown names. */
export function dependencies(t: Template): Map<string, Set<string>> {
  const deps = new Map<string, Set<string>>();
  const params = new Set(Object.keys(t.Parameters ?? {}));
  for (const [id, r] of Object.entries(t.Resources)) {
    const d = new Set<string>();
    const refs = references(r.Properties);
    references(r.Metadata, refs);
    for (const name of refs) {
      if (PSEUDO.has(name) || params.has(name)) continue;
      if (!t.Resources[name])
        throw validationError(
          `Template format error: Unresolved resource dependencies [${name}] in the Resources block of the template`,
        );
      d.add(name);
    }
    const dependsOn = r.DependsOn === undefined ? [] : Array.isArray(r.DependsOn) ? r.DependsOn : [r.DependsOn];
    for (const name of dependsOn) {
      if (typeof name !== 'string' || !t.Resources[name])
        throw validationError(
          `Template format error: Unresolved resource dependencies [${String(name)}] in the Resources block of the template`,
        );
      d.add(name);
    }
    deps.set(id, d);
  }
  for (const [id, o] of Object.entries(t.Outputs ?? {})) {
    for (const name of references(o)) {
      if (PSEUDO.has(name) || params.has(name) || t.Resources[name]) continue;
      throw validationError(
        `Template format error: Unresolved resource dependencies [${name}] in the Outputs block of the template`,
      );
    }
    void id;
  }
  return deps;
}

/** Topological order (dependencies first); a cycle is refused with CloudFormation's message. */
export function topoOrder(ids: string[], deps: Map<string, Set<string>>): string[] {
  const included = new Set(ids);
  const state = new Map<string, 1 | 2>();
  const out: string[] = [];
  const visit = (id: string, stack: string[]) => {
    const s = state.get(id);
    if (s === 2) return;
    if (s === 1) {
      const cycle = stack.slice(stack.indexOf(id));
      throw validationError(`Circular dependency between resources: [${[...new Set(cycle)].sort().join(', ')}]`);
    }
    state.set(id, 1);
    for (const d of deps.get(id) ?? []) if (included.has(d)) visit(d, [...stack, id]);
    state.set(id, 2);
    out.push(id);
  };
  for (const id of ids) visit(id, []);
  return out;
}
