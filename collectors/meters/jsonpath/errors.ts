/** A jsonpath jsonpath-rw-ext would refuse to parse; definitions turn it into a MeterDefinitionError. */
export class JsonPathSyntaxError extends Error {
  constructor(
    readonly source: string,
    readonly at: number,
    reason: string,
  ) {
    super(`jsonpath ${JSON.stringify(source)}: ${reason} at offset ${at}`);
    this.name = 'JsonPathSyntaxError';
  }
}

/**
 * Evaluating a jsonpath raised where jsonpath-rw-ext raises (an index into null, a filter
 * comparing a string with a number, ...). Ceilometer then loses the whole notification,
 * so the mapper refuses the whole message.
 */
export class JsonPathEvaluationError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'JsonPathEvaluationError';
  }
}
