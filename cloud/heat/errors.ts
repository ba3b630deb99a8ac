import { CumulusError } from '../../core/index.ts';
import { CloudApiError, keystoneErrorBody } from '../errors.ts';

/**
 * A refusal by Heat. `heatType` is the exception class Heat names in its error body
 * (`error.type`, heat/api/middleware/fault.py), which clients and people branch on;
 * `code` is ours (CUMULUS_HEAT_*); the message is worded as heat/common/exception.py words it.
 */
export class HeatError extends CloudApiError {
  readonly heatType: string;

  constructor(code: string, httpStatus: number, heatType: string, message: string) {
    super(code, httpStatus, message);
    this.name = 'HeatError';
    this.heatType = heatType;
  }
}

export const stackNotFound = (name: string) => new HeatError('CUMULUS_HEAT_STACK_NOT_FOUND', 404, 'EntityNotFound', `The Stack (${name}) could not be found.`);
export const resourceNotFound = (name: string) => new HeatError('CUMULUS_HEAT_RESOURCE_NOT_FOUND', 404, 'EntityNotFound', `The Resource (${name}) could not be found.`);
export const stackExists = (name: string) => new HeatError('CUMULUS_HEAT_STACK_EXISTS', 409, 'StackExists', `The Stack (${name}) already exists.`);
export const actionInProgress = (name: string, action: string) =>
  new HeatError('CUMULUS_HEAT_ACTION_IN_PROGRESS', 409, 'ActionInProgress', `Stack ${name} already has an action (${action}) in progress.`);
export const stackInvalid = (message: string) => new HeatError('CUMULUS_HEAT_STACK_INVALID', 400, 'StackValidationFailed', message);
export const templateVersionInvalid = (explanation: string) =>
  new HeatError('CUMULUS_HEAT_TEMPLATE_VERSION_INVALID', 400, 'InvalidTemplateVersion', `The template version is invalid: ${explanation}`);
export const templateReferenceInvalid = (resource: string, key: string) =>
  new HeatError('CUMULUS_HEAT_TEMPLATE_REFERENCE_INVALID', 400, 'InvalidTemplateReference', `The specified reference "${resource}" (in ${key}) is incorrect.`);
export const circularDependency = (cycle: string) => new HeatError('CUMULUS_HEAT_CIRCULAR_DEPENDENCY', 400, 'CircularDependencyException', `Circular Dependency Found: ${cycle}`);
export const parameterMissing = (key: string) => new HeatError('CUMULUS_HEAT_PARAMETER_MISSING', 400, 'UserParameterMissing', `The Parameter (${key}) was not provided.`);
export const parameterUnknown = (key: string) => new HeatError('CUMULUS_HEAT_PARAMETER_UNKNOWN', 400, 'UnknownUserParameter', `The Parameter (${key}) was not defined in template.`);
export const requestLimitExceeded = (message: string) => new HeatError('CUMULUS_HEAT_LIMIT_EXCEEDED', 400, 'RequestLimitExceeded', `Request limit exceeded: ${message}`);
export const notSupported = (feature: string) => new HeatError('CUMULUS_HEAT_NOT_SUPPORTED', 400, 'NotSupported', `${feature} is not supported.`);
/** What webob's HTTPBadRequest carries when the API layer itself refuses a request. */
export const badRequest = (message: string) => new HeatError('CUMULUS_HEAT_BAD_REQUEST', 400, 'HTTPBadRequest', message);
/** Heat's answer when the URL's tenant is not the token's project (util.registered_policy_enforce). */
export const tenantForbidden = () => new HeatError('CUMULUS_HEAT_FORBIDDEN', 403, 'HTTPForbidden', 'Access was denied to this resource.');

/** webob's titles and explanations, which Heat's fault wrapper copies into every error body. */
const WEBOB: Readonly<Record<number, { title: string; explanation: string; type: string }>> = {
  400: { title: 'Bad Request', explanation: 'The server could not comply with the request since it is either malformed or otherwise incorrect.', type: 'HTTPBadRequest' },
  403: { title: 'Forbidden', explanation: 'Access was denied to this resource.', type: 'HTTPForbidden' },
  404: { title: 'Not Found', explanation: 'The resource could not be found.', type: 'HTTPNotFound' },
  405: { title: 'Method Not Allowed', explanation: 'The method is not allowed for this resource.', type: 'HTTPMethodNotAllowed' },
  409: { title: 'Conflict', explanation: 'There was a conflict when trying to complete your request.', type: 'HTTPConflict' },
  413: { title: 'Request Entity Too Large', explanation: 'The body of your request was too large for this server.', type: 'HTTPRequestEntityTooLarge' },
  415: { title: 'Unsupported Media Type', explanation: 'The request media type is not supported by this server.', type: 'HTTPUnsupportedMediaType' },
  500: { title: 'Internal Server Error', explanation: 'The server has either erred or is incapable of performing the requested operation.', type: 'HTTPInternalServerError' },
};

/**
 * Heat's error body: `{"explanation", "code", "error": {"message", "traceback", "type"}, "title"}`.
 * A 401 comes from keystonemiddleware in front of heat-api, so it has Keystone's shape.
 * Unexpected errors carry no message, as Heat leaves out the text of exceptions not marked safe.
 */
export function heatErrorBody(err: unknown): { status: number; body: object } {
  const status = err instanceof CumulusError ? err.httpStatus : ((err as { statusCode?: number }).statusCode ?? 500);
  if (status === 401) return { status, body: keystoneErrorBody(401, 'The request you have made requires authentication.') };
  const webob = WEBOB[status] ?? WEBOB[status >= 500 ? 500 : 400] ?? { title: 'Error', explanation: '', type: 'HTTPError' };
  const type = err instanceof HeatError ? err.heatType : webob.type;
  const message = status >= 500 && !(err instanceof HeatError) ? undefined : (err as Error).message;
  return {
    status,
    body: { explanation: webob.explanation, code: status, error: { ...(message === undefined ? {} : { message }), traceback: null, type }, title: webob.title },
  };
}

/** No Heat route matches the path (webob's HTTPNotFound from the router). */
export const routeNotFound = () => new HeatError('CUMULUS_HEAT_NOT_FOUND', 404, 'HTTPNotFound', 'The resource could not be found.');
