import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ROUTER_CONFIG, type RouterConfig } from '../config/router-config';

const PUBLIC_ROUTE = 'baton:public-route';

/** Marks a route that needs no credentials (health probes). */
export const PublicRoute = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

const CALLER = Symbol('baton:caller');

/**
 * Every route requires an API key (`Authorization: Bearer <key>` or `X-API-Key`)
 * unless marked public. The caller is recorded as a key fingerprint, never the key.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Buffer[];

  constructor(
    private readonly reflector: Reflector,
    @Inject(ROUTER_CONFIG) config: RouterConfig,
  ) {
    this.keys = config.apiKeys.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    // Kafka handlers are not HTTP routes: the bus validates and authenticates nothing by key.
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<Request & { [CALLER]?: string }>();
    const presented = presentedKey(request);
    if (presented === undefined) throw new UnauthorizedException('missing API key (Authorization: Bearer <key> or X-API-Key)');
    const candidate = digest(presented);
    if (!this.keys.some((key) => timingSafeEqual(key, candidate))) throw new UnauthorizedException('invalid API key');
    request[CALLER] = `api-key:${candidate.toString('hex').slice(0, 12)}`;
    return true;
  }
}

export function callerOf(request: Request): string {
  return (request as Request & { [CALLER]?: string })[CALLER] ?? 'anonymous';
}

function presentedKey(request: Request): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.startsWith('Bearer ')) return header.slice('Bearer '.length).trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
