import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { ContractValidationError } from '@baton/contracts';
import { DefinitionNotFoundError, WorkflowNotFoundError, WorkflowNotRunningError } from '../workflows/workflow-errors';

export const httpErrorSchema = z.object({
  statusCode: z.number().int(),
  error: z.string().describe('machine-readable code, e.g. validation_failed'),
  message: z.string(),
  issues: z.array(z.string()).optional().describe('one entry per offending field: "<path>: <problem>"'),
});

type ErrorBody = z.infer<typeof httpErrorSchema>;

/** The one place errors become HTTP responses. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error({ msg: 'request failed', error: exception });
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof ContractValidationError) {
      return { statusCode: 400, error: 'validation_failed', message: exception.message, issues: [...exception.issues] };
    }
    if (exception instanceof WorkflowNotFoundError || exception instanceof DefinitionNotFoundError) {
      return { statusCode: 404, error: exception.code, message: exception.message };
    }
    if (exception instanceof WorkflowNotRunningError) {
      return { statusCode: 409, error: exception.code, message: exception.message };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      // Body-parser errors (malformed JSON) arrive as HttpExceptions with a 400.
      return { statusCode: status, error: errorName(status), message: exception.message };
    }
    return { statusCode: 500, error: 'internal_error', message: 'internal error' };
  }
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
