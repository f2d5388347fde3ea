/**
 * Result rows as the Data API returns them: typed `records` (`Field` unions, arrays as
 * `arrayValue`) or, with `formatRecordsAs: JSON`, one `formattedRecords` string. Values arrive from
 * PostgreSQL as text (the stand-in parses nothing on the way in) and are mapped by column type:
 *
 * | PostgreSQL            | records                          | formattedRecords          |
 * | --------------------- | -------------------------------- | ------------------------- |
 * | int2, int4, int8      | longValue (stringValue if LONG→STRING) | number (string if STRING) |
 * | float4, float8        | doubleValue                      | number                    |
 * | numeric               | stringValue (long/double if DOUBLE_OR_LONG) | string (number …) |
 * | bool                  | booleanValue                     | true / false              |
 * | bytea                 | blobValue                        | base64 string             |
 * | everything else listed| stringValue                      | string                    |
 * | arrays                | arrayValue (…Values by element)  | array                     |
 * | NULL                  | isNull: true                     | null                      |
 *
 * Sources: the JDBC ↔ Data API type table and "Data API always returns … TIMESTAMPTZ in UTC"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html#data-api-operations),
 * `ResultSetOptions` ("DOUBLE_OR_LONG specifies that it is converted to a Long value if its scale
 * is 0, or to a Double value otherwise", API reference), and the JSON mapping ("Other types
 * (including types related to date and time) → String", "DECIMAL → String by default")
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-json.html).
 */

import { parseArrayLiteral } from './array-literal.ts';
import {
  DataApiError,
  internalServerError,
  notANumber,
  unsupportedResult,
  unsupportedType,
} from './errors.ts';
import type { TypeInfo, ValueKind } from './type-catalog.ts';

export interface RecordOptions {
  readonly longReturnType: 'STRING' | 'LONG';
  readonly decimalReturnType: 'STRING' | 'DOUBLE_OR_LONG';
  readonly rowBytes: number;
}

type Scalar = string | number | boolean;
export type WireField =
  | { isNull: true }
  | { booleanValue: boolean }
  | { longValue: number }
  | { doubleValue: number }
  | { stringValue: string }
  | { blobValue: string }
  | { arrayValue: WireArray };
export type WireArray =
  | { booleanValues: (boolean | null)[] }
  | { longValues: (number | null)[] }
  | { doubleValues: (number | null)[] }
  | { stringValues: (string | null)[] };

/** Refuses, before any row is read, a result whose columns the Data API cannot return. */
export function assertSupported(types: readonly TypeInfo[]): void {
  for (const type of types) {
    if (type.kind === 'unsupported') throw unsupportedType(type.element?.name ?? type.name);
  }
}

/**
 * A decimal as `java.math.BigDecimal.toString()` prints it, which the Data API's decimal strings
 * follow (the adapter's `toPlainDecimal` turns `1.5E-7` back into digits): plain unless the
 * adjusted exponent is below -6, then `<digit>.<digits>E-<n>`.
 */
export function javaDecimalString(text: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return text;
  const [, sign = '', whole = '', fraction = ''] = match;
  const digits = `${whole}${fraction}`.replace(/^0+(?=\d)/, '');
  const adjusted = digits.length - 1 - fraction.length;
  if (adjusted >= -6) return text;
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${mantissa}E${adjusted}`;
}

const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);
const INFINITE_TIME = /^-?infinity$/;

function numberOf(text: string): number {
  if (NON_FINITE.has(text)) throw notANumber();
  return Number(text);
}

/** timestamptz in a UTC session prints `…+00`; the Data API returns it without the zone. */
const utcText = (text: string) => text.replace(/\+00(?=( BC)?$)/, '');

/** One scalar by kind: `[Field member, value]`. JSON is the formattedRecords variant. */
function scalar(kind: ValueKind, text: string, options: RecordOptions): [keyof ScalarMembers, Scalar] {
  switch (kind) {
    case 'bool':
      return ['booleanValue', text === 't'];
    case 'int':
      return options.longReturnType === 'STRING' ? ['stringValue', text] : ['longValue', Number(text)];
    case 'float':
      return ['doubleValue', numberOf(text)];
    case 'numeric': {
      if (options.decimalReturnType === 'STRING') {
        if (NON_FINITE.has(text)) throw notANumber();
        return ['stringValue', javaDecimalString(text)];
      }
      const value = numberOf(text);
      return text.includes('.') ? ['doubleValue', value] : ['longValue', value];
    }
    case 'bytea':
      return ['blobValue', Buffer.from(text.slice(2), 'hex').toString('base64')];
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      if (INFINITE_TIME.test(text)) throw internalServerError();
      return ['stringValue', kind === 'timestamptz' ? utcText(text) : text];
    default:
      return ['stringValue', text];
  }
}

interface ScalarMembers {
  booleanValue: boolean;
  longValue: number;
  doubleValue: number;
  stringValue: string;
  blobValue: string;
}

const ARRAY_MEMBER: Readonly<Record<keyof ScalarMembers, keyof UnionKeys>> = {
  booleanValue: 'booleanValues',
  longValue: 'longValues',
  doubleValue: 'doubleValues',
  stringValue: 'stringValues',
  blobValue: 'stringValues',
};
interface UnionKeys {
  booleanValues: unknown;
  longValues: unknown;
  doubleValues: unknown;
  stringValues: unknown;
}

/** The member an empty array of this kind uses. */
function emptyMember(kind: ValueKind, options: RecordOptions): keyof UnionKeys {
  if (kind === 'bool') return 'booleanValues';
  if (kind === 'float') return 'doubleValues';
  if (kind === 'int') return options.longReturnType === 'STRING' ? 'stringValues' : 'longValues';
  if (kind === 'numeric') return options.decimalReturnType === 'STRING' ? 'stringValues' : 'doubleValues';
  return 'stringValues';
}

function arrayElements(type: TypeInfo, text: string): (string | null)[] {
  const parsed = parseArrayLiteral(text);
  if (parsed.some(Array.isArray)) {
    // "It contained a multidimensional array." (UnsupportedResultException); the wording is ours.
    throw unsupportedResult(`The result contains a multidimensional array of type ${type.name}.`);
  }
  return parsed as (string | null)[];
}

function arrayField(type: TypeInfo, text: string, options: RecordOptions): WireArray {
  const kind = type.kind;
  const elements = arrayElements(type, text);
  let member = emptyMember(kind, options);
  const values = elements.map((element) => {
    if (element === null) return null;
    const [scalarMember, value] = scalar(kind, element, options);
    member = ARRAY_MEMBER[scalarMember];
    return value;
  });
  return { [member]: values } as WireArray;
}

function field(type: TypeInfo, text: string | null, options: RecordOptions): WireField {
  if (text === null) return { isNull: true };
  if (type.element !== undefined) return { arrayValue: arrayField(type, text, options) };
  const [member, value] = scalar(type.kind, text, options);
  return { [member]: value } as WireField;
}

/** "The Data API size limit is 64 KB per row" (data-api.limitations.html); the wording is ours. */
function assertRowSize(serialised: string, options: RecordOptions): void {
  if (Buffer.byteLength(serialised) > options.rowBytes) {
    throw new DataApiError(
      'UnsupportedResultException',
      400,
      `A row of the result exceeds the size limit of ${options.rowBytes} bytes.`,
    );
  }
}

export function typedRecords(
  types: readonly TypeInfo[],
  rows: readonly (readonly (string | null)[])[],
  options: RecordOptions,
): WireField[][] {
  return rows.map((row) => {
    const fields = types.map((type, index) => field(type, row[index] ?? null, options));
    assertRowSize(JSON.stringify(fields), options);
    return fields;
  });
}

/** A JSON value written by hand, so integers beyond 2^53 keep every digit as the service sends them. */
function jsonValue(type: TypeInfo, text: string | null, options: RecordOptions): string {
  if (text === null) return 'null';
  if (type.element !== undefined) {
    const elementType = { ...type.element, kind: type.kind, element: undefined };
    return `[${arrayElements(type, text)
      .map((element) => jsonValue(elementType, element, options))
      .join(',')}]`;
  }
  const [member, value] = scalar(type.kind, text, options);
  if (member === 'longValue' || member === 'doubleValue') {
    return type.kind === 'int' ? text : JSON.stringify(value);
  }
  return JSON.stringify(value);
}

/**
 * `formattedRecords`: a JSON array with one object per row, keyed by column label ("To customize
 * the keys in the JSON hash structure, define column aliases", data-api-json.html).
 */
export function formattedRecords(
  labels: readonly string[],
  types: readonly TypeInfo[],
  rows: readonly (readonly (string | null)[])[],
  options: RecordOptions,
): string {
  const objects = rows.map((row) => {
    const members = types.map(
      (type, index) => `${JSON.stringify(labels[index])}:${jsonValue(type, row[index] ?? null, options)}`,
    );
    const text = `{${members.join(',')}}`;
    assertRowSize(text, options);
    return text;
  });
  return `[${objects.join(',')}]`;
}
