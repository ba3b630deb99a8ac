import { CloudApiError } from '../errors.ts';

/** Swift's refusals: stable codes; each error also carries the body swift-proxy sends for it. */
export const SWIFT_ERRORS = {
  notFound: 'CUMULUS_SWIFT_NOT_FOUND',
  forbidden: 'CUMULUS_SWIFT_FORBIDDEN',
  badRequest: 'CUMULUS_SWIFT_BAD_REQUEST',
  containerNotEmpty: 'CUMULUS_SWIFT_CONTAINER_NOT_EMPTY',
  policyConflict: 'CUMULUS_SWIFT_STORAGE_POLICY_CONFLICT',
  methodNotAllowed: 'CUMULUS_SWIFT_METHOD_NOT_ALLOWED',
  lengthRequired: 'CUMULUS_SWIFT_LENGTH_REQUIRED',
  preconditionFailed: 'CUMULUS_SWIFT_PRECONDITION_FAILED',
  tooLarge: 'CUMULUS_SWIFT_OBJECT_TOO_LARGE',
  etagMismatch: 'CUMULUS_SWIFT_ETAG_MISMATCH',
  clientDisconnect: 'CUMULUS_SWIFT_CLIENT_DISCONNECT',
} as const;

/** swob's RESPONSE_REASONS: the title and default explanation of each status swift answers with. */
const REASONS: Record<number, [string, string]> = {
  400: ['Bad Request', ''],
  401: ['Unauthorized', 'This server could not verify that you are authorized to access the document you requested.'],
  403: ['Forbidden', 'Access was denied to this resource.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'The method is not allowed for this resource.'],
  409: ['Conflict', 'There was a conflict when trying to complete your request.'],
  411: ['Length Required', 'Length Required.'],
  412: ['Precondition Failed', 'A precondition for this request was not met.'],
  413: ['Request Entity Too Large', 'The body of your request was too large for this server.'],
  415: ['Unsupported Media Type', 'The request media type is not supported by this server.'],
  422: ['Unprocessable Entity', 'Unable to process the contained instructions'],
  499: ['Client Disconnect', 'The client was disconnected during request.'],
  500: ['Internal Error', 'The server has either erred or is incapable of performing the requested operation.'],
  503: ['Service Unavailable', 'The server is currently unavailable. Please try again at a later time.'],
};

/** The body swob renders for a status without an explicit one. */
export function swiftErrorBody(status: number): string {
  const [title, explanation] = REASONS[status] ?? REASONS[500]!;
  return `<html><h1>${title}</h1><p>${explanation}</p></html>`;
}

/** A refusal whose `message` says what was expected and what came; `body` is swift's own wording. */
export class SwiftApiError extends CloudApiError {
  constructor(
    code: string,
    httpStatus: number,
    message: string,
    readonly body: string = swiftErrorBody(httpStatus),
  ) {
    super(code, httpStatus, message);
    this.name = 'SwiftApiError';
  }
}

export const accountNotFound = (account: string) => new SwiftApiError(SWIFT_ERRORS.notFound, 404, `Account ${account} does not exist`);
export const containerNotFound = (account: string, container: string) => new SwiftApiError(SWIFT_ERRORS.notFound, 404, `Container ${container} does not exist in account ${account}`);
export const objectNotFound = (container: string, object: string) => new SwiftApiError(SWIFT_ERRORS.notFound, 404, `Object ${object} does not exist in container ${container}`);
export const accountForbidden = (account: string, projectId: string | null) =>
  new SwiftApiError(SWIFT_ERRORS.forbidden, 403, `Account ${account} belongs to another project; the token is scoped to ${projectId ?? 'no project'} and holds neither admin nor ResellerAdmin`);
/** swift answers most 400s with a plain sentence as the body. */
export const badRequest = (sentence: string) => new SwiftApiError(SWIFT_ERRORS.badRequest, 400, sentence, sentence);
export const containerNotEmpty = (container: string) => new SwiftApiError(SWIFT_ERRORS.containerNotEmpty, 409, `Container ${container} still holds objects; delete them first`);
export const policyConflict = (container: string, current: string) =>
  new SwiftApiError(SWIFT_ERRORS.policyConflict, 409, `Container ${container} already has storage policy ${current}`);
export const methodNotAllowed = (method: string, level: string) => new SwiftApiError(SWIFT_ERRORS.methodNotAllowed, 405, `${method} is not allowed on an ${level}`);
export const lengthRequired = () => new SwiftApiError(SWIFT_ERRORS.lengthRequired, 411, 'An object PUT needs Content-Length or Transfer-Encoding: chunked; got neither');
export const preconditionFailed = (sentence: string) => new SwiftApiError(SWIFT_ERRORS.preconditionFailed, 412, sentence, sentence);
export const objectTooLarge = (max: number, got: number | string) =>
  new SwiftApiError(SWIFT_ERRORS.tooLarge, 413, `An object holds at most ${max} bytes; got ${got}`, 'Your request is too large.');
export const etagMismatch = (sent: string, computed: string) => new SwiftApiError(SWIFT_ERRORS.etagMismatch, 422, `The ETag sent (${sent}) is not the md5 of the body received (${computed})`);
export const clientDisconnect = (expected: number, received: number) =>
  new SwiftApiError(SWIFT_ERRORS.clientDisconnect, 499, `The client sent ${received} of the ${expected} bytes its Content-Length announced`);
