import { CloudApiError } from '../errors.ts';

/** Glance's refusals: stable codes, HTTP status and glance's own message text. */
export const GLANCE_ERRORS = {
  imageNotFound: 'CUMULUS_GLANCE_IMAGE_NOT_FOUND',
  notAuthorized: 'CUMULUS_GLANCE_NOT_AUTHORIZED',
  readOnly: 'CUMULUS_GLANCE_ATTRIBUTE_READ_ONLY',
  reserved: 'CUMULUS_GLANCE_ATTRIBUTE_RESERVED',
  protectedImage: 'CUMULUS_GLANCE_IMAGE_PROTECTED',
  invalid: 'CUMULUS_GLANCE_INVALID_REQUEST',
  schemaMismatch: 'CUMULUS_GLANCE_SCHEMA_MISMATCH',
  statusTransition: 'CUMULUS_GLANCE_STATUS_TRANSITION',
  conflict: 'CUMULUS_GLANCE_CONFLICT',
  unsupportedMediaType: 'CUMULUS_GLANCE_UNSUPPORTED_MEDIA_TYPE',
} as const;

export const imageNotFound = (id: string) => new CloudApiError(GLANCE_ERRORS.imageNotFound, 404, `No image found with ID ${id}`);
/** An oslo.policy refusal as glance words it (glance.common.exception.Forbidden). */
export const notAuthorized = (action: string) => new CloudApiError(GLANCE_ERRORS.notAuthorized, 403, `You are not authorized to complete ${action} action.`);
export const forbiddenBecause = (message: string) => new CloudApiError(GLANCE_ERRORS.notAuthorized, 403, message);
export const readOnly = (attribute: string) => new CloudApiError(GLANCE_ERRORS.readOnly, 403, `Attribute '${attribute}' is read-only.`);
export const reserved = (attribute: string) => new CloudApiError(GLANCE_ERRORS.reserved, 403, `Attribute '${attribute}' is reserved.`);
export const protectedImage = (id: string) => new CloudApiError(GLANCE_ERRORS.protectedImage, 403, `Image ${id} is protected and cannot be deleted.`);
export const invalid = (message: string) => new CloudApiError(GLANCE_ERRORS.invalid, 400, message);
export const schemaMismatch = (schema: string, reason: string) => new CloudApiError(GLANCE_ERRORS.schemaMismatch, 400, `Provided object does not match schema '${schema}': ${reason}`);
export const statusTransition = (from: string, to: string) => new CloudApiError(GLANCE_ERRORS.statusTransition, 409, `Image status transition from ${from} to ${to} is not allowed`);
export const conflict = (message: string) => new CloudApiError(GLANCE_ERRORS.conflict, 409, message);
export const unsupportedMediaType = (message: string) => new CloudApiError(GLANCE_ERRORS.unsupportedMediaType, 415, message);

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
};

/** webob's default body template, filled with glance's explanation (the detail is always empty here). */
const bodyText = (explanation: string) => `${explanation}<br /><br />\n\n\n`;

/**
 * Glance raises webob HTTP exceptions; for a JSON client webob renders
 * `{"message": body, "code": "<status> <title>", "title"}` with its
 * `${explanation}<br /><br />\n${detail}\n${html_comment}\n` body template.
 */
export function glanceErrorBody(status: number, explanation: string): { message: string; code: string; title: string } {
  const title = TITLES[status] ?? 'Internal Server Error';
  return { message: bodyText(explanation), code: `${status} ${title}`, title };
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');

/** The quality an Accept header gives a media type (0: not acceptable). */
function quality(accept: string, offer: string): number {
  const [type] = offer.split('/');
  let best = -1;
  let specificity = -1;
  for (const range of accept.split(',')) {
    const [media = '', ...params] = range.trim().toLowerCase().split(';');
    const q = Number(params.map((p) => p.trim()).find((p) => p.startsWith('q='))?.slice(2) ?? '1');
    const level = media === offer ? 2 : media === `${type}/*` ? 1 : media === '*/*' ? 0 : -1;
    if (level > specificity) {
      specificity = level;
      best = Number.isNaN(q) ? 0 : q;
    }
  }
  return Math.max(best, 0);
}

/**
 * Renders a refusal the way webob picks its format: HTML when the client accepts it
 * first (no Accept header or `* / *`, as glanceclient and most requests send), JSON when
 * it prefers JSON, plain text otherwise (an empty Accept, as openstacksdk's uploads send).
 */
export function renderGlanceError(status: number, explanation: string, accept: string | undefined): { contentType: string; body: string } {
  const offers = ['text/html', 'application/json'];
  const ranked = accept === undefined ? offers : offers.map((offer, i) => ({ offer, q: quality(accept, offer), i })).filter((o) => o.q > 0).sort((a, b) => b.q - a.q || a.i - b.i).map((o) => o.offer);
  const title = TITLES[status] ?? 'Internal Server Error';
  const statusLine = `${status} ${title}`;
  switch (ranked[0]) {
    case 'application/json':
      return { contentType: 'application/json', body: JSON.stringify(glanceErrorBody(status, explanation)) };
    case 'text/html':
      return {
        contentType: 'text/html; charset=UTF-8',
        body: `<html>\n <head>\n  <title>${statusLine}</title>\n </head>\n <body>\n  <h1>${statusLine}</h1>\n  ${bodyText(escapeHtml(explanation))}\n </body>\n</html>`,
      };
    default: {
      // webob's strip_tags: newlines become spaces, <br> becomes a newline, other tags go.
      const plain = bodyText(explanation).replace(/\n/g, ' ').replace(/\r/g, '').replace(/<br.*?>/gis, '\n').replace(/<!--|-->/g, '').replace(/<.*?>/gs, '');
      return { contentType: 'text/plain; charset=UTF-8', body: `${statusLine}\n\n${plain}` };
    }
  }
}
