/**
 * The Content-Type MLflow's server sends for an artifact (mlflow/utils/mime_type_utils.py): text/plain for the
 * text formats ML code writes (and for MLmodel, which has no extension), Python's guess for the
 * rest, and application/octet-stream when nothing fits.
 */
const TEXT = new Set([
  'txt', 'log', 'err', 'cfg', 'conf', 'cnf', 'cf', 'ini', 'properties', 'prop', 'hocon', 'toml', 'yaml', 'yml',
  'xml', 'json', 'js', 'py', 'py3', 'csv', 'tsv', 'md', 'rst', 'MLmodel', 'mlproject',
]);

/** The common part of Python's mimetypes table that artifacts meet in practice. */
const BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  bmp: 'image/bmp',
  webp: 'image/webp',
  svg: 'image/svg+xml',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  html: 'text/html',
  htm: 'text/html',
  css: 'text/css',
  pdf: 'application/pdf',
  zip: 'application/zip',
  tar: 'application/x-tar',
  mp4: 'video/mp4',
  webm: 'video/webm',
  wav: 'audio/x-wav',
  mp3: 'audio/mpeg',
};

export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot + 1) : name;
  if (TEXT.has(extension)) return 'text/plain';
  return (dot > 0 && BY_EXTENSION[extension.toLowerCase()]) || 'application/octet-stream';
}
