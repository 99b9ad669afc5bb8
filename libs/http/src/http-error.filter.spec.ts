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

  it('lists the issues a domain error carries', () => {
    const error = Object.assign(new Error('workflow rejected: steps[1].capability: unknown capability "foo"'), {
      httpStatus: 422,
      code: 'unknown_capability',
      issues: ['steps[1].capability: unknown capability "foo"'],
    });
    expect(toHttpErrorBody(error)).toEqual({
      statusCode: 422,
      error: 'unknown_capability',
      message: 'workflow rejected: steps[1].capability: unknown capability "foo"',
      issues: ['steps[1].capability: unknown capability "foo"'],
    });
  });

  it('names the size and the limit of a body too large for the parser', () => {
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, expose: true, length: 2048, limit: 1024 });
    expect(toHttpErrorBody(tooLarge)).toMatchObject({
      statusCode: 413,
      error: 'payload_too_large',
      message: 'request body: 2048 bytes, over the limit of 1024 bytes',
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
