import { validationError } from './errors.ts';
import type { Template } from './template.ts';

/** Removed from the enclosing object or list (`Ref: AWS::NoValue`). */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

/** What an intrinsic function can see while a template is evaluated. */
export interface Scope {
  template: Template;
  /** Resolved parameter values (lists for List<...> / CommaDelimitedList types). */
  params: Record<string, string | string[]>;
  pseudo: {
    accountId: string;
    region: string;
    stackName: string;
    stackId: string;
    notificationARNs?: string[];
  };
  /** Ref of a resource (undefined while it does not exist yet). */
  ref(logicalId: string): string | undefined;
  /** Fn::GetAtt of a resource. Throws when the attribute is unknown. */
  getAtt(logicalId: string, attribute: string): unknown;
  /** Fn::ImportValue. */
  importValue(name: string): string;
  /** Memoised condition values. */
  conditionCache?: Map<string, boolean>;
}

export const partition = (region: string) =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
export const urlSuffix = (region: string) => (region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com');

function pseudoValue(name: string, s: Scope): unknown {
  switch (name) {
    case 'AWS::AccountId':
      return s.pseudo.accountId;
    case 'AWS::Region':
      return s.pseudo.region;
    case 'AWS::StackName':
      return s.pseudo.stackName;
    case 'AWS::StackId':
      return s.pseudo.stackId;
    case 'AWS::Partition':
      return partition(s.pseudo.region);
    case 'AWS::URLSuffix':
      return urlSuffix(s.pseudo.region);
    case 'AWS::NotificationARNs':
      return s.pseudo.notificationARNs ?? [];
    case 'AWS::NoValue':
      return NO_VALUE;
    default:
      return undefined;
  }
}

export function evalCondition(name: string, s: Scope): boolean {
  s.conditionCache ??= new Map();
  const cached = s.conditionCache.get(name);
  if (cached !== undefined) return cached;
  const def = s.template.Conditions?.[name];
  if (def === undefined)
    throw validationError(`Template format error: Unresolved condition dependency ${name} in Fn::If`);
  const v = resolve(def, s);
  if (typeof v !== 'boolean')
    throw validationError(`Template format error: Condition ${name} must evaluate to a boolean`);
  s.conditionCache.set(name, v);
  return v;
}

const str = (v: unknown, fn: string): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw validationError(`Template error: every ${fn} object must contain string values, got ${JSON.stringify(v)}`);
};

const AZ_LETTERS = ['a', 'b', 'c'];

/** Evaluate every intrinsic function in a value. */
export function resolve(v: unknown, s: Scope): any {
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const r = resolve(x, s);
      if (r !== NO_VALUE) out.push(r);
    }
    return out;
  }
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const k = keys[0];
    if (k === 'Ref' || k.startsWith('Fn::') || k === 'Condition') {
      const r = fn(k, o[k], s);
      if (r !== NOT_A_FUNCTION) return r;
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    const r = resolve(x, s);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

const NOT_A_FUNCTION = Symbol('not a function');

function fn(name: string, arg: unknown, s: Scope): unknown {
  switch (name) {
    case 'Ref': {
      if (typeof arg !== 'string')
        throw validationError('Template error: every Ref object must have a single String value.');
      const pseudo = pseudoValue(arg, s);
      if (pseudo !== undefined) return pseudo;
      if (arg in s.params) return s.params[arg];
      if (s.template.Resources[arg]) {
        const r = s.ref(arg);
        if (r === undefined)
          throw validationError(`Template error: resource ${arg} is not available (its Condition is false)`);
        return r;
      }
      throw validationError(
        `Template format error: Unresolved resource dependencies [${arg}] in the Resources block of the template`,
      );
    }
    case 'Condition':
      if (typeof arg !== 'string') return NOT_A_FUNCTION;
      return evalCondition(arg, s);
    case 'Fn::GetAtt': {
      let parts: unknown[];
      if (typeof arg === 'string') {
        const i = arg.indexOf('.');
        parts = [arg.slice(0, i), arg.slice(i + 1)];
      } else if (Array.isArray(arg)) parts = arg;
      else throw validationError('Template error: every Fn::GetAtt object requires two non-empty parameters');
      const [id, attrRaw] = parts;
      const attr = resolve(attrRaw, s);
      if (typeof id !== 'string' || typeof attr !== 'string' || !id || !attr)
        throw validationError('Template error: every Fn::GetAtt object requires two non-empty parameters');
      if (!s.template.Resources[id])
        throw validationError(`Template error: instance of Fn::GetAtt references undefined resource ${id}`);
      return s.getAtt(id, attr);
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw validationError(
          'Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.',
        );
      const delim = str(resolve(arg[0], s), 'Fn::Join');
      const list = resolve(arg[1], s);
      if (!Array.isArray(list)) throw validationError('Template error: Fn::Join requires a list of strings');
      return list.map((x) => str(x, 'Fn::Join')).join(delim);
    }
    case 'Fn::Sub':
      return sub(arg, s);
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw validationError(
          'Template error: Fn::Select requires a list argument with two elements: an integer index and a list',
        );
      const index = Number(resolve(arg[0], s));
      const list = resolve(arg[1], s);
      if (!Array.isArray(list))
        throw validationError(
          'Template error: Fn::Select requires a list argument with two elements: an integer index and a list',
        );
      if (!Number.isInteger(index) || index < 0 || index >= list.length)
        throw validationError('Template error: Fn::Select cannot select nonexistent value at index ' + String(index));
      return list[index];
    }
    case 'Fn::Split': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw validationError(
          'Template error: every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.',
        );
      const delim = str(resolve(arg[0], s), 'Fn::Split');
      return str(resolve(arg[1], s), 'Fn::Split').split(delim);
    }
    case 'Fn::If': {
      if (!Array.isArray(arg) || arg.length !== 3 || typeof arg[0] !== 'string')
        throw validationError('Template error: Fn::If requires a list argument with three elements');
      return evalCondition(arg[0], s) ? resolve(arg[1], s) : resolve(arg[2], s);
    }
    case 'Fn::Equals': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw validationError('Template error: every Fn::Equals object requires a list of 2 string parameters.');
      const [a, b] = [resolve(arg[0], s), resolve(arg[1], s)];
      return JSON.stringify(scalarString(a)) === JSON.stringify(scalarString(b));
    }
    case 'Fn::And':
    case 'Fn::Or': {
      if (!Array.isArray(arg) || arg.length < 2 || arg.length > 10)
        throw validationError(
          `Template error: every ${name} object requires a list of at least 2 and at most 10 boolean parameters.`,
        );
      const vals = arg.map((x) => bool(resolve(x, s), name));
      return name === 'Fn::And' ? vals.every(Boolean) : vals.some(Boolean);
    }
    case 'Fn::Not': {
      if (!Array.isArray(arg) || arg.length !== 1)
        throw validationError('Template error: every Fn::Not object requires one boolean parameter.');
      return !bool(resolve(arg[0], s), name);
    }
    case 'Fn::FindInMap': {
      if (!Array.isArray(arg) || arg.length < 3)
        throw validationError(
          'Template error: every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value',
        );
      const [m, k1, k2] = arg.slice(0, 3).map((x) => str(resolve(x, s), 'Fn::FindInMap'));
      const map = s.template.Mappings?.[m];
      if (!map) throw validationError(`Template error: Unable to get mapping for ${m}::${k1}::${k2}`);
      const v = map[k1]?.[k2];
      if (v === undefined) {
        const dflt = arg[3] as { DefaultValue?: unknown } | undefined;
        if (dflt && typeof dflt === 'object' && 'DefaultValue' in dflt) return resolve(dflt.DefaultValue, s);
        throw validationError(`Template error: Unable to get mapping for ${m}::${k1}::${k2}`);
      }
      return v;
    }
    case 'Fn::GetAZs': {
      const r = resolve(arg, s);
      const region = r === '' || r === undefined ? s.pseudo.region : str(r, 'Fn::GetAZs');
      return AZ_LETTERS.map((l) => `${region}${l}`);
    }
    case 'Fn::Base64':
      return Buffer.from(str(resolve(arg, s), 'Fn::Base64'), 'utf8').toString('base64');
    case 'Fn::ImportValue':
      return s.importValue(str(resolve(arg, s), 'Fn::ImportValue'));
    case 'Fn::Contains': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw validationError('Template error: Fn::Contains requires two parameters');
      const list = resolve(arg[0], s);
      const v = resolve(arg[1], s);
      return Array.isArray(list) && list.map(String).includes(String(v));
    }
    case 'Fn::EachMemberEquals': {
      const [list, v] = (arg as unknown[]).map((x) => resolve(x, s));
      return Array.isArray(list) && list.every((x) => String(x) === String(v));
    }
    case 'Fn::EachMemberIn': {
      const [a, b] = (arg as unknown[]).map((x) => resolve(x, s));
      return Array.isArray(a) && Array.isArray(b) && a.every((x) => b.map(String).includes(String(x)));
    }
    case 'Fn::Length': {
      const list = resolve(arg, s);
      if (!Array.isArray(list)) throw validationError('Template error: Fn::Length requires a list');
      return list.length;
    }
    case 'Fn::ToJsonString':
      return JSON.stringify(resolve(arg, s));
    case 'Fn::Cidr':
    case 'Fn::Transform':
    case 'Fn::ValueOf':
    case 'Fn::ValueOfAll':
    case 'Fn::RefAll':
      throw validationError(`Template error: ${name} is not supported by Eddy`);
    default:
      return NOT_A_FUNCTION;
  }
}

function scalarString(v: unknown): unknown {
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
}

function bool(v: unknown, name: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw validationError(`Template error: every ${name} object requires boolean parameters`);
}

function sub(arg: unknown, s: Scope): string {
  let template: unknown;
  let vars: Record<string, unknown> = {};
  if (Array.isArray(arg)) {
    if (arg.length !== 2)
      throw validationError(
        "Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string",
      );
    template = arg[0];
    vars = resolve(arg[1], s) as Record<string, unknown>;
  } else template = arg;
  if (typeof template !== 'string')
    throw validationError(
      "Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string",
    );
  return template.replace(/\$\{([^}]*)\}/g, (whole, inner: string) => {
    if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
    const name = inner.trim();
    if (name in vars) return str(vars[name], 'Fn::Sub');
    const dot = name.indexOf('.');
    if (dot > 0 && !name.startsWith('AWS::')) {
      const id = name.slice(0, dot);
      if (!s.template.Resources[id])
        throw validationError(`Template error: instance of Fn::Sub references invalid resource attribute ${name}`);
      return str(s.getAtt(id, name.slice(dot + 1)), 'Fn::Sub');
    }
    const r = fn('Ref', name, s);
    if (Array.isArray(r)) return r.join(',');
    void whole;
    return str(r, 'Fn::Sub');
  });
}
