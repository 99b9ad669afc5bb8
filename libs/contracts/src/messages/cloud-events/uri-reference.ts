/**
 * RFC 3986 checks for CloudEvents `source` (URI-reference) and `dataschema`
 * (URI). Deliberately syntactic: characters, percent-encoding and the scheme;
 * `new URL()` is no help because it accepts and silently escapes invalid input.
 */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;
const BROKEN_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

export function isUriReference(value: string): boolean {
  if (value === '' || !URI_CHARACTERS.test(value) || BROKEN_PERCENT.test(value)) return false;
  // A colon before the first "/", "?" or "#" means the text before it is a scheme.
  const beforePath = value.split(/[/?#]/, 1)[0] ?? '';
  return !beforePath.includes(':') || SCHEME.test(value);
}

export function isAbsoluteUri(value: string): boolean {
  return isUriReference(value) && SCHEME.test(value) && !value.includes('#');
}
