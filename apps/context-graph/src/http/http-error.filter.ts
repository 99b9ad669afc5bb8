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

type ErrorBody = z.infer<typeof httpErrorSchema>;

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  readonly code = 'not_found';
}

/** The one place errors become HTTP responses. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error({ msg: 'request failed', error: String(exception) });
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof ContractValidationError) {
      return {
        statusCode: 400,
        error: 'validation_failed',
        message: exception.message,
        issues: [...exception.issues],
      };
    }
    if (exception instanceof NotFoundError) {
      return { statusCode: 404, error: exception.code, message: exception.message };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      // Body-parser errors (malformed JSON, too large) arrive as HttpExceptions.
      return { statusCode: status, error: errorName(status), message: exception.message };
    }
    const clientError = bodyParserError(exception);
    if (clientError) return clientError;
    return { statusCode: 500, error: 'internal_error', message: 'internal error' };
  }
}

/** body-parser rejects (too large, bad encoding) with http-errors objects, not HttpExceptions: their 4xx is the answer. */
function bodyParserError(exception: unknown): ErrorBody | undefined {
  if (typeof exception !== 'object' || exception === null) return undefined;
  const { status, expose, message } = exception as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499 || expose !== true) return undefined;
  return {
    statusCode: status,
    error: errorName(status),
    message: typeof message === 'string' ? message : 'bad request',
  };
}

function errorName(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 404:
      return 'not_found';
    case 413:
      return 'payload_too_large';
    default:
      return status >= 500 ? 'internal_error' : 'request_failed';
  }
}
