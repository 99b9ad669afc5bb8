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
import { CONTEXT_GRAPH_CONFIG, type ContextGraphConfig } from '../config/context-graph-config';

const PUBLIC_ROUTE = 'baton:public-route';

/** Marks a route that needs no credentials (health probes). */
export const PublicRoute = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

const CALLER = Symbol('baton:caller');
const SCOPES = Symbol('baton:scopes');

/**
 * Every route requires an API key (`Authorization: Bearer <key>` or `X-API-Key`)
 * unless marked public. The caller is recorded as a key fingerprint, never the key.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Buffer[];
  private readonly scopesByKey: Map<string, string[]>;

  constructor(
    private readonly reflector: Reflector,
    @Inject(CONTEXT_GRAPH_CONFIG) config: ContextGraphConfig,
  ) {
    this.keys = config.apiKeys.map(digest);
    // Scopes belong to the key (configured), never to what the caller claims.
    this.scopesByKey = new Map(
      [...config.apiKeyScopes].map(([key, scopes]) => [digest(key).toString('hex'), scopes]),
    );
  }

  canActivate(context: ExecutionContext): boolean {
    // Kafka handlers are not HTTP routes: the bus validates and authenticates nothing by key.
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<Request & { [CALLER]?: string; [SCOPES]?: string[] }>();
    const presented = presentedKey(request);
    if (presented === undefined)
      throw new UnauthorizedException('missing API key (Authorization: Bearer <key> or X-API-Key)');
    const candidate = digest(presented);
    if (!this.keys.some((key) => timingSafeEqual(key, candidate)))
      throw new UnauthorizedException('invalid API key');
    request[CALLER] = `api-key:${candidate.toString('hex').slice(0, 12)}`;
    request[SCOPES] = this.scopesByKey.get(candidate.toString('hex')) ?? [];
    return true;
  }
}

export function callerOf(request: Request): string {
  return (request as Request & { [CALLER]?: string })[CALLER] ?? 'anonymous';
}

/** The scopes configured for the caller's API key (CONTEXT_API_KEY_SCOPES); none when unlisted. */
export function scopesOf(request: Request): string[] {
  return (request as Request & { [SCOPES]?: string[] })[SCOPES] ?? [];
}

function presentedKey(request: Request): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header.startsWith('Bearer '))
    return header.slice('Bearer '.length).trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
