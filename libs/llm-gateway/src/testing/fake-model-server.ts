import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server speaking the OpenAI chat-completions and Anthropic
 * Messages wire formats, for tests: the gateway's own HTTP client talks to it
 * exactly as it would to a provider. Replies are scripted per protocol (FIFO);
 * when a queue is empty the protocol's default handler answers.
 */
export type Protocol = 'openai' | 'anthropic';

export interface ScriptedReply {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
  /** Wait this long before answering (a slow provider). */
  delayMs?: number;
}

export interface RecordedRequest {
  protocol: Protocol;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

type DefaultHandler = (body: Record<string, unknown>) => ScriptedReply;

export class FakeModelServer {
  readonly requests: RecordedRequest[] = [];
  /** Requests being answered right now, and the most ever at once (to observe a client's concurrency). */
  inFlight = 0;
  maxInFlight = 0;
  /** Requests whose client hung up before the answer was sent (a timeout or an abort on the client side). */
  clientAborts = 0;
  private readonly queues: Record<Protocol, ScriptedReply[]> = { openai: [], anthropic: [] };
  private readonly defaults: Record<Protocol, DefaultHandler> = {
    openai: () => openAiText('{"ok":true}'),
    anthropic: () => anthropicText('{"ok":true}'),
  };
  private server: Server | undefined;
  private port = 0;
  private readonly delays = new Set<NodeJS.Timeout>();

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Base URL for an `openai` provider (includes /v1, as OpenAI's does). */
  get openAiBaseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** Base URL for an `anthropic` provider (the client appends /v1/messages). */
  get anthropicBaseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  enqueue(protocol: Protocol, ...replies: ScriptedReply[]): void {
    this.queues[protocol].push(...replies);
  }

  setDefault(protocol: Protocol, handler: DefaultHandler): void {
    this.defaults[protocol] = handler;
  }

  requestsFor(protocol: Protocol): RecordedRequest[] {
    return this.requests.filter((request) => request.protocol === protocol);
  }

  reset(): void {
    this.requests.length = 0;
    this.maxInFlight = this.inFlight;
    this.queues.openai.length = 0;
    this.queues.anthropic.length = 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    for (const timer of this.delays) clearTimeout(timer);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '').split('?')[0] ?? '';
    const protocol: Protocol | undefined = path.endsWith('/chat/completions')
      ? 'openai'
      : path.endsWith('/v1/messages')
        ? 'anthropic'
        : undefined;
    if (req.method !== 'POST' || !protocol) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"invalid JSON body"}}');
      return;
    }
    this.requests.push({ protocol, path, headers: req.headers, body });
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.on('close', () => {
      if (!res.writableFinished) this.clientAborts += 1;
    });
    try {
      await this.answer(protocol, body, res);
    } finally {
      this.inFlight -= 1;
    }
  }

  private async answer(protocol: Protocol, body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const reply = this.queues[protocol].shift() ?? this.defaults[protocol](body);
    if (reply.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.delays.delete(timer);
          resolve();
        }, reply.delayMs);
        this.delays.add(timer);
      });
    }
    if (res.destroyed) return;
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers }).end(text);
  }
}

export interface FakeToolCall {
  id?: string;
  name: string;
  arguments: unknown;
}

const usage = { input: 11, output: 7 };

export function openAiText(content: string, tokens = usage): ScriptedReply {
  return {
    body: {
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      model: 'fake-gpt',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: { prompt_tokens: tokens.input, completion_tokens: tokens.output, total_tokens: tokens.input + tokens.output },
    },
  };
}

/** `arguments` is sent as the model would: a JSON string (or the given raw string, to send broken JSON). */
export function openAiToolCalls(calls: FakeToolCall[], tokens = usage): ScriptedReply {
  return {
    body: {
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      model: 'fake-gpt',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: calls.map((call, index) => ({
              id: call.id ?? `call_${index}`,
              type: 'function',
              function: {
                name: call.name,
                arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
              },
            })),
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: tokens.input, completion_tokens: tokens.output, total_tokens: tokens.input + tokens.output },
    },
  };
}

export function anthropicText(text: string, tokens = usage): ScriptedReply {
  return {
    body: {
      id: 'msg_fake',
      type: 'message',
      role: 'assistant',
      model: 'fake-claude',
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      usage: { input_tokens: tokens.input, output_tokens: tokens.output },
    },
  };
}

export function anthropicToolUse(calls: FakeToolCall[], tokens = usage): ScriptedReply {
  return {
    body: {
      id: 'msg_fake',
      type: 'message',
      role: 'assistant',
      model: 'fake-claude',
      content: [
        { type: 'text', text: 'Let me use a tool.' },
        ...calls.map((call, index) => ({ type: 'tool_use', id: call.id ?? `toolu_${index}`, name: call.name, input: call.arguments })),
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: tokens.input, output_tokens: tokens.output },
    },
  };
}

export function rateLimited(protocol: Protocol, retryAfterSeconds: number): ScriptedReply {
  return {
    status: 429,
    headers: { 'retry-after': String(retryAfterSeconds) },
    body:
      protocol === 'openai'
        ? { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }
        : { type: 'error', error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit' } },
  };
}

export function serverError(protocol: Protocol, status = 500): ScriptedReply {
  return {
    status,
    body:
      protocol === 'openai'
        ? { error: { message: 'The server had an error', type: 'server_error' } }
        : { type: 'error', error: { type: status === 529 ? 'overloaded_error' : 'api_error', message: 'Internal server error' } },
  };
}
