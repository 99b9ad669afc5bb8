import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { ContractValidationError } from '@baton/contracts';

export const httpErrorSchema = z.object({
  statusCode: z.number().int(),
  error: z.string().describe('machine-readable code, e.g. validation_failed'),
  message: z.string(),
  issues: z.array(z.string()).optional().describe('one entry per offending field: "<path>: <problem>"'),
});

export type HttpErrorBody = z.infer<typeof httpErrorSchema>;

/**
 * A domain error that knows its HTTP answer: give it `httpStatus` and `code`
 * and the filter maps it, so apps never add special cases to the filter.
 */
export interface HttpMappedError extends Error {
  readonly httpStatus: number;
  readonly code: string;
}

/** The one place errors become HTTP responses. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = toHttpErrorBody(exception);
    if (body.statusCode >= 500) this.logger.error({ msg: 'request failed', error: String(exception) });
    response.status(body.statusCode).json(body);
  }
}

export function toHttpErrorBody(exception: unknown): HttpErrorBody {
  if (exception instanceof ContractValidationError) {
    return { statusCode: 400, error: 'validation_failed', message: exception.message, issues: [...exception.issues] };
  }
  if (isHttpMapped(exception)) {
    const { issues } = exception as { issues?: unknown };
    const listed = Array.isArray(issues) && issues.every((issue) => typeof issue === 'string') ? { issues: [...(issues as string[])] } : {};
    return { statusCode: exception.httpStatus, error: exception.code, message: exception.message, ...listed };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    return { statusCode: status, error: errorName(status), message: exception.message };
  }
  return bodyParserError(exception) ?? { statusCode: 500, error: 'internal_error', message: 'internal error' };
}

function isHttpMapped(exception: unknown): exception is HttpMappedError {
  if (!(exception instanceof Error)) return false;
  const { httpStatus, code } = exception as Partial<HttpMappedError>;
  return typeof httpStatus === 'number' && httpStatus >= 400 && httpStatus <= 599 && typeof code === 'string';
}

/** body-parser rejects (malformed, too large, bad encoding) with http-errors objects, not HttpExceptions. */
function bodyParserError(exception: unknown): HttpErrorBody | undefined {
  if (typeof exception !== 'object' || exception === null) return undefined;
  const { status, expose, message, length, limit } = exception as {
    status?: unknown;
    expose?: unknown;
    message?: unknown;
    length?: unknown;
    limit?: unknown;
  };
  if (typeof status !== 'number' || status < 400 || status > 499 || expose !== true) return undefined;
  if (status === 413 && typeof limit === 'number') {
    const size = typeof length === 'number' ? `${length} bytes` : 'too large';
    return {
      statusCode: 413,
      error: 'payload_too_large',
      message: `request body: ${size}, over the limit of ${limit} bytes`,
      issues: [`(body): ${size}, over the limit of ${limit} bytes`],
    };
  }
  return { statusCode: status, error: errorName(status), message: typeof message === 'string' ? message : 'bad request' };
}

function errorName(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    default:
      return status >= 500 ? 'internal_error' : 'request_failed';
  }
}
