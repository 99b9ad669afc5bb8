import { type ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeyGuard, PublicRoute, callerOf, scopesOf } from './api-key.guard';

const KEY = 'analyst-key-0123456789';
const OTHER = 'ops-key-0123456789abc';

class Routes {
  guarded(): string {
    return 'guarded';
  }
  @PublicRoute()
  open(): string {
    return 'open';
  }
}

function httpContext(request: Partial<Request>, handler: keyof Routes = 'guarded'): ExecutionContext {
  return {
    getType: () => 'http',
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

describe('ApiKeyGuard', () => {
  const guard = new ApiKeyGuard(new Reflector(), {
    keys: [KEY, OTHER],
    scopes: new Map([[KEY, ['public', 'customer-data']]]),
  });

  it('lets public routes through without a key', () => {
    expect(guard.canActivate(httpContext({ headers: {} }, 'open'))).toBe(true);
  });

  it('refuses a missing or unknown key', () => {
    expect(() => guard.canActivate(httpContext({ headers: {} }))).toThrow(UnauthorizedException);
    expect(() => guard.canActivate(httpContext({ headers: { authorization: 'Bearer nope-nope-nope-nope' } }))).toThrow('invalid API key');
  });

  it('accepts a bearer or X-API-Key and records a fingerprint and the scopes configured for that key', () => {
    const bearer = { headers: { authorization: `Bearer ${KEY}` } } as Request;
    expect(guard.canActivate(httpContext(bearer))).toBe(true);
    expect(callerOf(bearer)).toMatch(/^api-key:[0-9a-f]{12}$/);
    expect(callerOf(bearer)).not.toContain(KEY);
    expect(scopesOf(bearer)).toEqual(['public', 'customer-data']);

    const header = { headers: { 'x-api-key': OTHER } } as unknown as Request;
    expect(guard.canActivate(httpContext(header))).toBe(true);
    expect(scopesOf(header)).toEqual([]);
  });
});
