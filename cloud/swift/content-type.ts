/**
 * What swift-proxy stores as an object's Content-Type when the PUT names none (or sends
 * X-Detect-Content-Type): Python's mimetypes.guess_type(name)[0], else
 * application/octet-stream. The table holds the common part of Python's map.
 */
const TYPES: Record<string, string> = {
  txt: 'text/plain',
  csv: 'text/csv',
  html: 'text/html',
  htm: 'text/html',
  css: 'text/css',
  js: 'text/javascript',
  mjs: 'text/javascript',
  json: 'application/json',
  xml: 'application/xml',
  md: 'text/markdown',
  py: 'text/x-python',
  sh: 'text/x-sh',
  pdf: 'application/pdf',
  zip: 'application/zip',
  tar: 'application/x-tar',
  tgz: 'application/x-tar',
  iso: 'application/x-iso9660-image',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  webp: 'image/webp',
  ico: 'image/vnd.microsoft.icon',
  mp3: 'audio/mpeg',
  wav: 'audio/x-wav',
  mp4: 'video/mp4',
  webm: 'video/webm',
};

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export function guessContentType(objectName: string): string {
  const base = objectName.slice(objectName.lastIndexOf('/') + 1);
  // mimetypes strips an encoding suffix first: `x.tar.gz` is a tar (gzip-encoded), `x.gz` unknown.
  const stem = /\.(gz|bz2|xz|br|Z)$/.test(base) ? base.replace(/\.[^.]+$/, '') : base;
  const dot = stem.lastIndexOf('.');
  if (dot <= 0) return DEFAULT_CONTENT_TYPE;
  return TYPES[stem.slice(dot + 1).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}
