/** Something asked for over HTTP does not exist; @baton/http answers 404 with this code. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  readonly code = 'not_found';
  readonly httpStatus = 404;
}
