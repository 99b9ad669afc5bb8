/**
 * Where an `@EventPattern` handler listens: a whole topic, or one message type
 * on it. Nest stores object patterns as JSON with sorted keys; they are read back here.
 */
export interface EventRoute {
  topic: string;
  type?: string;
}

export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';
  constructor(pattern: string) {
    super(`unsupported @EventPattern ${pattern}: use a topic name or { topic, type }`);
  }
}

export function parseEventRoute(pattern: string): EventRoute {
  if (!pattern.startsWith('{')) {
    if (pattern.trim() === '') throw new InvalidEventPatternError(pattern);
    return { topic: pattern };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(pattern);
  } catch {
    throw new InvalidEventPatternError(pattern);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new InvalidEventPatternError(pattern);
  const { topic, type, ...rest } = parsed as Record<string, unknown>;
  if (typeof topic !== 'string' || topic === '' || Object.keys(rest).length > 0) {
    throw new InvalidEventPatternError(pattern);
  }
  if (type === undefined) return { topic };
  if (typeof type !== 'string' || type === '') throw new InvalidEventPatternError(pattern);
  return { topic, type };
}

/** Handlers by topic, then by message type; `undefined` type = every message on the topic. */
export class RouteTable<H> {
  private readonly routes = new Map<string, { anyType: H[]; byType: Map<string, H[]> }>();

  add(route: EventRoute, handler: H): void {
    const entry = this.routes.get(route.topic) ?? { anyType: [], byType: new Map<string, H[]>() };
    if (route.type === undefined) {
      entry.anyType.push(handler);
    } else {
      entry.byType.set(route.type, [...(entry.byType.get(route.type) ?? []), handler]);
    }
    this.routes.set(route.topic, entry);
  }

  topics(): string[] {
    return [...this.routes.keys()];
  }

  /** Type-specific handlers first, then the topic-wide ones. */
  match(topic: string, type: string): H[] {
    const entry = this.routes.get(topic);
    if (!entry) return [];
    return [...(entry.byType.get(type) ?? []), ...entry.anyType];
  }
}
