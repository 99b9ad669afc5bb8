import { BadRequestException } from '@nestjs/common';
import { ContractValidationError } from '@baton/contracts';
import { toHttpErrorBody } from './http-error.filter';

class ThingNotFoundError extends Error {
  readonly httpStatus = 404;
  readonly code = 'thing_not_found';
}

describe('toHttpErrorBody', () => {
  it('answers 400 with every offending field for a contract violation', () => {
    const body = toHttpErrorBody(new ContractValidationError(['steps[0].capability: required'], 'invalid request'));
    expect(body).toEqual({
      statusCode: 400,
      error: 'validation_failed',
      message: 'invalid request: steps[0].capability: required',
      issues: ['steps[0].capability: required'],
    });
  });

  it('uses the status and code a domain error declares', () => {
    expect(toHttpErrorBody(new ThingNotFoundError('thing 1 not found'))).toEqual({
      statusCode: 404,
      error: 'thing_not_found',
      message: 'thing 1 not found',
    });
  });

  it('keeps Nest HTTP exceptions and body-parser rejections as client errors', () => {
    expect(toHttpErrorBody(new BadRequestException('Unexpected end of JSON input'))).toMatchObject({
      statusCode: 400,
      error: 'bad_request',
    });
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, expose: true });
    expect(toHttpErrorBody(tooLarge)).toEqual({
      statusCode: 413,
      error: 'payload_too_large',
      message: 'request entity too large',
    });
  });

  it('hides anything else behind a 500', () => {
    expect(toHttpErrorBody(new Error('connection refused to 10.0.0.1'))).toEqual({
      statusCode: 500,
      error: 'internal_error',
      message: 'internal error',
    });
  });
});
