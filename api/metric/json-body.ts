import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.ts';

/** JSON media types the resource routes read: JSON, and JSON patch for resource type updates. */
export const JSON_MEDIA_TYPES = ['application/json', 'application/json-patch+json'] as const;

/**
 * JSON bodies the way gnocchiclient sends them, in this (encapsulated) scope only: an
 * empty body with a JSON content type is no body (the client sends one on a search or
 * a batch delete given as a `filter=` string), and JSON patch is JSON. `__proto__` keys
 * are dropped, so a body cannot reach an object's prototype when it is copied.
 */
export function acceptJsonBodies(scope: FastifyInstance): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser([...JSON_MEDIA_TYPES], { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text, (key, value: unknown) => (key === '__proto__' ? undefined : value)));
    } catch (err) {
      done(new ApiError('CUMULUS_API_INVALID_JSON', 400, `Unable to decode body: expected JSON, got a body that does not parse (${(err as Error).message})`), undefined);
    }
  });
}
