import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CumulusError, type TokenInfo } from '../core/index.ts';
import type { TokenAuthenticator } from './auth.ts';
import { DescribedApiError, gnocchiErrorBody } from './errors.ts';

/**
 * How a route family words its errors: Gnocchi's `{code,title,description}`, the plain
 * `{error:{code,status,message}}`, WSME's (Panko, Aodh) `{error_message:{faultcode,faultstring,debuginfo}}`,
 * or flask-restful's `{message}` (CloudKitty v2).
 */
export type ErrorStyle = 'gnocchi' | 'plain' | 'wsme' | 'flask';

interface ValidationIssue {
  instancePath?: string;
  schemaPath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/**
 * A schema failure as one sentence that names the field: `querystring.limit must be
 * <= 1000`, `body.definition[0].points must be integer`, `body has an unknown field "foo"`.
 */
export function describeValidation(context: string | undefined, issues: readonly ValidationIssue[]): string {
  const where = context ?? 'request';
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = (issue.instancePath ?? '')
        .split('/')
        .filter(Boolean)
        .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
        .join('');
      const field = `${where}${path}`;
      if (issue.keyword === 'additionalProperties') return `${field} has an unknown field "${String(issue.params?.additionalProperty)}"`;
      // `additionalProperties: {not: {}}` (api/params.ts NO_OTHER_FIELDS) refuses instead of stripping: the path ends at the field.
      if (issue.keyword === 'not' && issue.schemaPath?.endsWith('/additionalProperties/not')) return `${field} is not an accepted field`;
      if (issue.keyword === 'required') return `${field} is missing the required field "${String(issue.params?.missingProperty)}"`;
      if (issue.keyword === 'enum') return `${field} must be one of ${JSON.stringify(issue.params?.allowedValues)}`;
      return `${field} ${issue.message ?? 'is invalid'}`;
    })
    .join('; ');
}

/** The status and the message a caller should see for any error thrown in a route. */
export function errorReply(err: unknown): { status: number; message: string; code: string } {
  const fastifyError = err as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (fastifyError?.validation) return { status: 400, code: 'CUMULUS_API_INVALID_INPUT', message: `Invalid input: ${describeValidation(fastifyError.validationContext, fastifyError.validation)}` };
  // 503s are deliberate ("try again"); other 5xx texts may carry internals, so they stay in the log.
  if (err instanceof CumulusError && (err.httpStatus < 500 || err.httpStatus === 503)) return { status: err.httpStatus, code: err.code, message: err.message };
  if (err instanceof CumulusError) return { status: err.httpStatus, code: 'CUMULUS_API_INTERNAL', message: 'The server could not complete the request; see its log.' };
  const status = fastifyError?.statusCode ?? 500;
  if (status >= 500) return { status, code: 'CUMULUS_API_INTERNAL', message: 'The server could not complete the request; see its log.' };
  return { status, code: fastifyError?.code ?? 'CUMULUS_API_BAD_REQUEST', message: fastifyError?.message ?? 'Bad request' };
}

/** Installs the family's error handler; server faults are logged (with the request id), never described to the caller. */
export function useErrorStyle(instance: FastifyInstance, style: ErrorStyle): void {
  instance.setErrorHandler((err, request, reply) => {
    const { status, message, code } = errorReply(err);
    if (status >= 500) request.log.error({ err }, 'API request failed');
    // Some Gnocchi errors describe themselves as an object ({cause, detail, reason}); clients read its fields.
    if (style === 'gnocchi' && err instanceof DescribedApiError && status < 500) return reply.code(status).type('application/json').send(gnocchiErrorBody(status, err.description));
    return sendApiError(reply, style, status, message, code);
  });
}

export function sendApiError(reply: FastifyReply, style: ErrorStyle, status: number, message: string, code = 'CUMULUS_API_ERROR'): FastifyReply {
  const body =
    style === 'gnocchi'
      ? gnocchiErrorBody(status, message)
      : style === 'wsme'
        ? // WSME's fault, wrapped by Panko's ParsableErrorMiddleware; faultcode says whose fault it was.
          { error_message: { faultcode: status < 500 ? 'Client' : 'Server', faultstring: message, debuginfo: null } }
        : style === 'flask'
          ? // flask-restful's abort(): CloudKitty's v2 API.
            { message }
          : { error: { code, status, message } };
  return reply.code(status).type('application/json').send(body);
}

/** Every route registered on `instance` after this needs a valid token; the identity lands on request.identity. */
export function requireToken(instance: FastifyInstance, auth: TokenAuthenticator): void {
  instance.addHook('onRequest', async (request) => {
    request.identity = await auth.authenticate(request);
  });
}

/** The authenticated caller of a protected route (the hook above guarantees it). */
export function callerOf(request: FastifyRequest): TokenInfo {
  const identity = request.identity;
  if (!identity) throw new CumulusError('CUMULUS_API_NO_IDENTITY', 'A protected route ran without the token hook; register it after requireToken().', { httpStatus: 500 });
  return identity;
}

/** The OpenAPI security requirement of every protected route. */
export const TOKEN_SECURITY = [{ keystoneToken: [] }];

/**
 * Refuses query fields that a route's querystring schema does not declare when the schema
 * says `additionalProperties: false`: fastify's ajv would drop them silently, and a
 * misspelt filter would then widen the answer. 400 naming the field.
 */
export function rejectUnknownQueryFields(instance: FastifyInstance): void {
  instance.addHook('preValidation', async (request) => {
    const schema = request.routeOptions.schema?.querystring as { properties?: Record<string, unknown>; additionalProperties?: unknown } | undefined;
    if (schema?.properties === undefined || schema.additionalProperties !== false) return;
    const known = Object.keys(schema.properties);
    const unknown = Object.keys((request.query as Record<string, unknown> | undefined) ?? {}).find((name) => !known.includes(name));
    if (unknown !== undefined) {
      throw new CumulusError('CUMULUS_API_INVALID_INPUT', `Invalid input: querystring has an unknown field "${unknown}" (known: ${known.join(', ')})`, { httpStatus: 400 });
    }
  });
}
