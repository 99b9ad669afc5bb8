import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { EXCEPTION_FILTERS_METADATA } from '@nestjs/common/constants';
import type { ModulesContainer } from '@nestjs/core';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { type Observable, throwError } from 'rxjs';

/**
 * Nest's default RPC exception filter replaces any thrown error by
 * `{ status: 'error', message: 'Internal server error' }`. The bus needs the
 * original (NonRetryableError, `retryable: false`, its message as the DLQ
 * reason), so this filter hands it through unchanged.
 */
@Catch()
export class RpcErrorPassthroughFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

function hasEventPatterns(controller: object): boolean {
  const prototype = (controller as { prototype?: Record<string, unknown> }).prototype;
  if (!prototype) return false;
  return Object.getOwnPropertyNames(prototype).some((name) => {
    const member = Object.getOwnPropertyDescriptor(prototype, name)?.value;
    return typeof member === 'function' && Reflect.getMetadata(PATTERN_METADATA, member) !== undefined;
  });
}

/**
 * Adds the pass-through filter to every controller that declares patterns.
 * Nest reads filter metadata when `connectMicroservice` registers handlers,
 * which is after providers are built, so doing it at construction suffices.
 * It goes first in the class list: the controller's own filters still win.
 */
export function installRpcErrorPassthrough(modules: ModulesContainer): void {
  const filter = new RpcErrorPassthroughFilter();
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const controller: unknown = wrapper.metatype;
      if (typeof controller !== 'function' || !hasEventPatterns(controller)) continue;
      const existing: unknown[] = Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, controller) ?? [];
      if (existing.some((entry) => entry instanceof RpcErrorPassthroughFilter)) continue;
      Reflect.defineMetadata(EXCEPTION_FILTERS_METADATA, [filter, ...existing], controller);
    }
  }
}
