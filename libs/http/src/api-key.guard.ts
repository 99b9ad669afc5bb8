import { createHash, timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

/** What an app's HTTP API accepts: its API keys and, per key, the data scopes that key grants. */
export interface ApiKeySettings {
  keys: readonly string[];
  scopes?: ReadonlyMap<string, readonly string[]>;
}

/** Bind in the app: `{ provide: HTTP_API_KEYS, inject: [CONFIG], useFactory: (c) => ({ keys: c.apiKeys }) }`. */
export const HTTP_API_KEYS = Symbol('HTTP_API_KEYS');

const PUBLIC_ROUTE = 'baton:public-route';

/** Marks a route that needs no credentials (health probes). */
export const PublicRoute = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

const CALLER = Symbol('baton:caller');
const SCOPES = Symbol('baton:scopes');

type AuthenticatedRequest = Request & { [CALLER]?: string; [SCOPES]?: readonly string[] };

/**
 * Every HTTP route requires an API key (`Authorization: Bearer <key>` or
 * `X-API-Key`) unless marked public. The caller is recorded as a key
 * fingerprint, never the key; its scopes come from configuration, never from
 * what the caller claims.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Buffer[];
  private readonly scopesByDigest: Map<string, readonly string[]>;

  constructor(
    private readonly reflector: Reflector,
    @Inject(HTTP_API_KEYS) settings: ApiKeySettings,
  ) {
    this.keys = settings.keys.map(digest);
    this.scopesByDigest = new Map(
      [...(settings.scopes ?? new Map<string, readonly string[]>())].map(([key, scopes]) => [digest(key).toString('hex'), scopes]),
    );
  }

  canActivate(context: ExecutionContext): boolean {
    // Kafka handlers are not HTTP routes: the bus validates envelopes, API keys do not apply.
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const presented = presentedKey(request);
    if (presented === undefined) {
      throw new UnauthorizedException('missing API key (Authorization: Bearer <key> or X-API-Key)');
    }
    const candidate = digest(presented);
    if (!this.keys.some((key) => timingSafeEqual(key, candidate))) throw new UnauthorizedException('invalid API key');
    const fingerprint = candidate.toString('hex');
    request[CALLER] = `api-key:${fingerprint.slice(0, 12)}`;
    request[SCOPES] = this.scopesByDigest.get(fingerprint) ?? [];
    return true;
  }
}

/** Who made an authenticated request (a key fingerprint). */
export function callerOf(request: Request): string {
  return (request as AuthenticatedRequest)[CALLER] ?? 'anonymous';
}

/** The data scopes the request's API key grants. */
export function scopesOf(request: Request): string[] {
  return [...((request as AuthenticatedRequest)[SCOPES] ?? [])];
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
