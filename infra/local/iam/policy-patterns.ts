/**
 * Policy strings as patterns: `*` and `?` wildcards, policy variables (`${aws:PrincipalTag/team}`,
 * with a default `${aws:userid, 'anonymous'}`) and the escapes `${*}`, `${?}`, `${$}`, turned
 * into matchers for the three ways IAM compares: actions, resource ARNs, and condition values.
 *
 * Policy variables: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 */
import type { RequestContext } from './policy-context.ts';

/** A pattern is literal text and wildcards; text that came from a variable is always literal. */
export type PatternPart = { readonly text: string } | '*' | '?';
export type Pattern = readonly PatternPart[];

/** Only this policy language version substitutes variables; any other leaves `${…}` literal. */
export const POLICY_VARIABLES_VERSION = '2012-10-17';

/** The special variables that stand for characters that would otherwise be wildcards or `$`. */
const ESCAPES: Readonly<Record<string, string>> = { '*': '*', '?': '?', $: '$' };

/**
 * The pattern a policy string denotes, or `undefined` when it uses a variable that the request
 * cannot resolve (absent, or multivalued: only single-valued keys can be variables). AWS then
 * treats the statement as invalid, so the caller must let it match nothing.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-infotouse
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 *
 * `variablesFrom` is the offset from which variables are substituted: in a `Resource`, only the
 * resource part of the ARN (after the fifth colon) may hold one.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-resourceelement
 */
export function compilePattern(
  source: string,
  context: RequestContext,
  version: string | undefined,
  variablesFrom = 0,
): Pattern | undefined {
  const parts: PatternPart[] = [];
  const literal = (text: string) => {
    const last = parts.at(-1);
    if (typeof last === 'object') parts[parts.length - 1] = { text: last.text + text };
    else parts.push({ text });
  };
  const variables = version === POLICY_VARIABLES_VERSION;
  let index = 0;
  while (index < source.length) {
    const char = source.charAt(index);
    const close = source.indexOf('}', index);
    if (variables && index >= variablesFrom && source.startsWith('${', index) && close > index) {
      const value = resolveVariable(source.slice(index + 2, close), context);
      if (value === undefined) return undefined;
      literal(value);
      index = close + 1;
    } else {
      if (char === '*' || char === '?') parts.push(char);
      else literal(char);
      index += 1;
    }
  }
  return parts;
}

/** `name`, `name, 'default'` or one of the escapes, resolved against the request context. */
function resolveVariable(body: string, context: RequestContext): string | undefined {
  const escaped = ESCAPES[body];
  if (escaped !== undefined) return escaped;
  const match = /^\s*([^,\s]+)\s*(?:,\s*'([^']*)'\s*)?$/.exec(body);
  if (!match?.[1]) return undefined;
  const values = context.get(match[1]);
  if (values?.length === 1) return values[0];
  return values === undefined ? match[2] : undefined;
}

/** The offset just past the fifth colon: where an ARN's resource part starts. */
export function resourcePartOffset(arn: string): number {
  let offset = -1;
  for (let colons = 0; colons < 5; colons += 1) {
    offset = arn.indexOf(':', offset + 1);
    if (offset < 0) return arn.length;
  }
  return offset + 1;
}

/** The text of a pattern with wildcards read as plain characters (for the `…Equals` operators). */
export function patternText(pattern: Pattern): string {
  return pattern.map((part) => (typeof part === 'string' ? part : part.text)).join('');
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Compiled matchers by pattern: templates repeat the same few hundred patterns on every request.
 * Bounded, because patterns with substituted variables vary per request.
 */
const compiled = new Map<string, RegExp>();
function cachedRegExp(kind: string, pattern: Pattern, build: () => RegExp): RegExp {
  const key = `${kind}${JSON.stringify(pattern)}`;
  let regExp = compiled.get(key);
  if (!regExp) {
    if (compiled.size >= 10_000) compiled.clear();
    regExp = build();
    compiled.set(key, regExp);
  }
  return regExp;
}

/**
 * `*` any run of characters, `?` exactly one, anywhere in the string: how `Action` elements and
 * `StringLike` compare. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
 */
export function globRegExp(pattern: Pattern, ignoreCase: boolean): RegExp {
  return cachedRegExp(ignoreCase ? 'glob-i' : 'glob', pattern, () => {
    const body = pattern
      .map((part) => (part === '*' ? '.*' : part === '?' ? '.' : escapeRegExp(part.text)))
      .join('');
    return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
  });
}

/**
 * A `Resource` element's pattern: wildcards stay inside the colon-separated segment they are
 * written in, except a `*` that ends a segment, which "can expand to match beyond colon
 * boundaries". Case-sensitive, like the ARN comparisons of the condition operators.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards
 */
export function resourceRegExp(pattern: Pattern): RegExp {
  return cachedRegExp('resource', pattern, () => {
    const body = pattern
      .map((part, index) => {
        if (part === '?') return '[^:]';
        if (part !== '*') return escapeRegExp(part.text);
        const next = pattern[index + 1];
        const endsSegment = next === undefined || (typeof next === 'object' && next.text.startsWith(':'));
        return endsSegment ? '.*' : '[^:]*';
      })
      .join('');
    return new RegExp(`^${body}$`, 's');
  });
}

/**
 * `ArnEquals`/`ArnLike` (which "behave identically"): each of the six colon-delimited components
 * is matched on its own, so a wildcard never spans a colon between components; the sixth (the
 * resource) keeps any colons of its own.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
 */
export function arnMatches(value: string, pattern: Pattern): boolean {
  const valueParts = splitArn(value);
  const patternParts = splitPatternArn(pattern);
  if (!valueParts || !patternParts) return false;
  return patternParts.every((part, index) => globRegExp(part, false).test(valueParts[index] ?? ''));
}

function splitArn(value: string): string[] | undefined {
  const offset = resourcePartOffset(value);
  if (offset >= value.length && value.split(':').length < 6) return undefined;
  return [...value.slice(0, offset - 1).split(':'), value.slice(offset)];
}

function splitPatternArn(pattern: Pattern): Pattern[] | undefined {
  const components: PatternPart[][] = [[]];
  for (const part of pattern) {
    if (typeof part === 'string' || components.length === 6) {
      components.at(-1)?.push(part);
      continue;
    }
    const pieces = part.text.split(':');
    for (const [index, piece] of pieces.entries()) {
      if (index > 0 && components.length < 6) components.push([]);
      else if (index > 0) components.at(-1)?.push({ text: ':' });
      if (piece !== '') components.at(-1)?.push({ text: piece });
    }
  }
  return components.length === 6 ? components : undefined;
}
