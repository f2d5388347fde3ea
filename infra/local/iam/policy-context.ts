/**
 * The request context a policy is evaluated against, looked up the way IAM does: condition key
 * names (and the tag-key part of `…Tag/key`) are not case-sensitive, so `aws:SourceIP` finds
 * `AWS:SourceIp`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-infoallreqs
 */

export interface RequestContext {
  /**
   * The values of a key, or `undefined` when the request has none. A key given as an empty list
   * (a "null data set") is treated as absent, as the `ForAllValues`/`ForAnyValue` and `Null`
   * pages describe.
   */
  get(key: string): readonly string[] | undefined;
}

export function requestContext(
  entries: Readonly<Record<string, string | readonly string[]>>,
): RequestContext {
  const byKey = new Map<string, readonly string[]>();
  for (const [key, value] of Object.entries(entries)) {
    const values = typeof value === 'string' ? [value] : value;
    if (values.length > 0) byKey.set(key.toLowerCase(), values);
  }
  return { get: (key) => byKey.get(key.toLowerCase()) };
}
