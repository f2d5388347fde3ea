/**
 * Resolves CloudFormation intrinsic functions in template values the way a deployment into the
 * local account and region would: `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub` (both forms),
 * `Fn::Select`, `Fn::Split`, `Fn::ImportValue` (the exports of the other stacks of the same
 * assembly), `Fn::FindInMap`, `Fn::GetAZs` and the pseudo parameters.
 *
 * Physical names and attributes come from the caller's resolver. What it cannot answer becomes a
 * deterministic placeholder (`unresolvedName`) that no local resource can carry, so a grant
 * that names it allows nothing. Any other intrinsic throws: better a loud boot than a guess.
 *
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
 */

/** One stack of a cloud assembly: its name and its template JSON. */
export interface TemplateStack {
  readonly name: string;
  readonly template: unknown;
}

/** A resource (or one attribute of it) whose physical value the local platform decides. */
export interface PhysicalRef {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  /** `undefined` for `Ref`; the attribute name for `Fn::GetAtt` (e.g. `Arn`). */
  readonly attribute?: string;
}

export type PhysicalResolver = (ref: PhysicalRef) => string | undefined;

export interface ResolveOptions {
  readonly accountId: string;
  readonly region: string;
  readonly resolvePhysical: PhysicalResolver;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
}

interface Template {
  readonly Resources?: Readonly<Record<string, TemplateResource>>;
  readonly Parameters?: Readonly<Record<string, { readonly Default?: unknown }>>;
  readonly Mappings?: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>;
  readonly Outputs?: Readonly<
    Record<string, { readonly Value?: unknown; readonly Export?: { readonly Name?: unknown } }>
  >;
}

export class UnsupportedIntrinsicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedIntrinsicError';
  }
}

/**
 * The value of a reference nothing resolved. Its angle brackets and space appear in no AWS
 * resource name (bucket, table, queue, bus, state machine, secret, log group, function, role),
 * so an ARN built around it matches no local resource.
 */
export function unresolvedName(what: string): string {
  return `<unresolved ${what}>`;
}

/** `AWS::NoValue`: drops the property or list element it stands in. */
const NO_VALUE = Symbol('AWS::NoValue');
const PARTITION = 'aws';
const URL_SUFFIX = 'amazonaws.com';

export class IntrinsicResolver {
  private readonly templates = new Map<string, Template>();
  private exports: Map<string, { stack: string; value: unknown }> | undefined;
  private readonly importing = new Set<string>();
  /** Every placeholder handed out, for diagnostics. */
  readonly unresolved = new Set<string>();

  constructor(
    stacks: readonly TemplateStack[],
    private readonly options: ResolveOptions,
  ) {
    for (const stack of stacks) this.templates.set(stack.name, stack.template as Template);
  }

  /** The resources of a stack's template. */
  resources(stack: string): Readonly<Record<string, TemplateResource>> {
    return this.templates.get(stack)?.Resources ?? {};
  }

  /** A template value with every intrinsic resolved, in the context of `stack`. */
  resolve(stack: string, value: unknown): unknown {
    const resolved = this.value(stack, value);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Like `resolve`, for a value that must come out as a string. */
  resolveString(stack: string, value: unknown, what: string): string {
    const resolved = this.resolve(stack, value);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new UnsupportedIntrinsicError(`${stack}: ${what} does not resolve to a string`);
  }

  private value(stack: string, value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((item) => this.value(stack, item)).filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
      return this.intrinsic(stack, first[0], first[1]);
    }
    const result: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const resolved = this.value(stack, item);
      if (resolved !== NO_VALUE) result[key] = resolved;
    }
    return result;
  }

  private intrinsic(stack: string, name: string, argument: unknown): unknown {
    switch (name) {
      case 'Ref':
        return this.ref(stack, this.text(stack, argument, name));
      case 'Fn::GetAtt':
        return this.getAtt(stack, argument);
      case 'Fn::Join': {
        const [delimiter, items] = this.pair(stack, name, argument);
        return this.list(stack, items, name)
          .map((item) => this.text(stack, item, name))
          .join(this.text(stack, delimiter, name));
      }
      case 'Fn::Sub':
        return this.sub(stack, argument);
      case 'Fn::Select': {
        const [index, items] = this.pair(stack, name, argument);
        const list = this.list(stack, items, name);
        const at = Number(this.value(stack, index));
        if (!Number.isInteger(at) || at < 0 || at >= list.length) {
          throw new UnsupportedIntrinsicError(`${stack}: Fn::Select index ${String(index)} out of range`);
        }
        return list[at];
      }
      case 'Fn::Split': {
        const [delimiter, source] = this.pair(stack, name, argument);
        return this.text(stack, source, name).split(this.text(stack, delimiter, name));
      }
      case 'Fn::ImportValue':
        return this.importValue(this.text(stack, argument, name));
      case 'Fn::FindInMap':
        return this.findInMap(stack, argument);
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.options.region}${zone}`);
      default:
        throw new UnsupportedIntrinsicError(`${stack}: ${name} is not resolved by the local platform`);
    }
  }

  private pair(stack: string, name: string, argument: unknown): [unknown, unknown] {
    if (!Array.isArray(argument) || argument.length !== 2) {
      throw new UnsupportedIntrinsicError(`${stack}: ${name} takes a list of two`);
    }
    return [argument[0], argument[1]];
  }

  private list(stack: string, value: unknown, name: string): unknown[] {
    const resolved = this.value(stack, value);
    if (!Array.isArray(resolved)) throw new UnsupportedIntrinsicError(`${stack}: ${name} needs a list`);
    return resolved;
  }

  private text(stack: string, value: unknown, name: string): string {
    const resolved = this.value(stack, value);
    if (typeof resolved === 'string' || typeof resolved === 'number') return String(resolved);
    throw new UnsupportedIntrinsicError(`${stack}: ${name} needs a string, got ${JSON.stringify(resolved)}`);
  }

  /**
   * `Ref` to a pseudo parameter, a template parameter (its default) or a resource (its physical
   * name or id, from the resolver).
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-ref.html
   */
  private ref(stack: string, name: string): unknown {
    switch (name) {
      case 'AWS::AccountId':
        return this.options.accountId;
      case 'AWS::Region':
        return this.options.region;
      case 'AWS::Partition':
        return PARTITION;
      case 'AWS::URLSuffix':
        return URL_SUFFIX;
      case 'AWS::StackName':
        return stack;
      case 'AWS::StackId':
        return `arn:${PARTITION}:cloudformation:${this.options.region}:${this.options.accountId}:stack/${stack}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NotificationARNs':
        return [];
      case 'AWS::NoValue':
        return NO_VALUE;
    }
    const template = this.templates.get(stack);
    const parameter = template?.Parameters?.[name];
    if (parameter) {
      return parameter.Default === undefined
        ? this.placeholder(`parameter ${stack}/${name}`)
        : this.value(stack, parameter.Default);
    }
    return this.physical(stack, name, undefined);
  }

  /** https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-getatt.html */
  private getAtt(stack: string, argument: unknown): unknown {
    const parts = typeof argument === 'string' ? splitOnce(argument, '.') : argument;
    if (!Array.isArray(parts) || parts.length !== 2) {
      throw new UnsupportedIntrinsicError(`${stack}: Fn::GetAtt takes [logicalId, attribute]`);
    }
    return this.physical(
      stack,
      this.text(stack, parts[0], 'Fn::GetAtt'),
      this.text(stack, parts[1], 'Fn::GetAtt'),
    );
  }

  private physical(stack: string, logicalId: string, attribute: string | undefined): string {
    const resource = this.templates.get(stack)?.Resources?.[logicalId];
    if (!resource) throw new UnsupportedIntrinsicError(`${stack}: no resource or parameter "${logicalId}"`);
    const ref: PhysicalRef = { stack, logicalId, type: resource.Type, ...(attribute ? { attribute } : {}) };
    return (
      this.options.resolvePhysical(ref) ??
      this.placeholder(`${stack}/${logicalId}${attribute ? `.${attribute}` : ''}`)
    );
  }

  /**
   * `Fn::Sub` as a string or as `[string, { Var: value }]`: `${AWS::Region}`, `${Logical}`,
   * `${Logical.Attr}`, `${Var}`; `${!Literal}` writes `${Literal}`.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-sub.html
   */
  private sub(stack: string, argument: unknown): string {
    const [source, variables] = Array.isArray(argument) ? argument : [argument, {}];
    if (typeof source !== 'string' || variables === null || typeof variables !== 'object') {
      throw new UnsupportedIntrinsicError(`${stack}: Fn::Sub takes a string or [string, {variables}]`);
    }
    const own = variables as Record<string, unknown>;
    return source.replace(/\$\{([^}]*)\}/g, (_all, body: string) => {
      if (body.startsWith('!')) return `\${${body.slice(1)}}`;
      const name = body.trim();
      if (Object.hasOwn(own, name)) return this.text(stack, own[name], 'Fn::Sub');
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [logicalId, attribute] = splitOnce(name, '.');
        return this.physical(stack, logicalId, attribute);
      }
      return this.text(stack, { Ref: name }, 'Fn::Sub');
    });
  }

  /**
   * The value another stack of the assembly exports under that name, resolved in that stack.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-importvalue.html
   */
  private importValue(name: string): unknown {
    const exported = this.exportsByName().get(name);
    if (!exported) return this.placeholder(`import ${name}`);
    if (this.importing.has(name)) throw new UnsupportedIntrinsicError(`Export ${name} imports itself`);
    this.importing.add(name);
    try {
      return this.value(exported.stack, exported.value);
    } finally {
      this.importing.delete(name);
    }
  }

  private exportsByName(): Map<string, { stack: string; value: unknown }> {
    if (!this.exports) {
      const exports = new Map<string, { stack: string; value: unknown }>();
      for (const [stack, template] of this.templates) {
        for (const output of Object.values(template.Outputs ?? {})) {
          if (output.Export?.Name === undefined) continue;
          exports.set(this.text(stack, output.Export.Name, 'Export.Name'), { stack, value: output.Value });
        }
      }
      this.exports = exports;
    }
    return this.exports;
  }

  /** https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-findinmap.html */
  private findInMap(stack: string, argument: unknown): unknown {
    if (!Array.isArray(argument) || argument.length < 3) {
      throw new UnsupportedIntrinsicError(`${stack}: Fn::FindInMap takes [map, top key, second key]`);
    }
    const [map, top, second] = argument.slice(0, 3).map((part) => this.text(stack, part, 'Fn::FindInMap'));
    const found = this.templates.get(stack)?.Mappings?.[map ?? '']?.[top ?? '']?.[second ?? ''];
    if (found === undefined)
      throw new UnsupportedIntrinsicError(`${stack}: no mapping ${map}/${top}/${second}`);
    return this.value(stack, found);
  }

  private placeholder(what: string): string {
    const name = unresolvedName(what);
    this.unresolved.add(name);
    return name;
  }
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}
