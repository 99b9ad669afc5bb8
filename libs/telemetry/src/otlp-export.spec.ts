import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = join(__dirname, '..', '..', '..');

interface Received {
  path: string;
  contentType: string;
  body: string;
}

function listen(received: Received[]): Promise<Server> {
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        contentType: request.headers['content-type'] ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('startTelemetry with an OTLP endpoint', () => {
  const received: Received[] = [];
  let server: Server;

  beforeAll(async () => {
    server = await listen(received);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('exports spans to <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces with the service resource, and metrics', async () => {
    const { port } = server.address() as AddressInfo;
    await run(process.execPath, ['tools/run-ts.cjs', 'libs/telemetry/src/testing/otlp-export-child.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/`,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
      },
      timeout: 60_000,
    });

    const traces = received.filter((request) => request.path === '/v1/traces');
    expect(traces).toHaveLength(1);
    const [request] = traces;
    expect(request?.contentType).toBe('application/json');
    const body = request?.body ?? '';
    expect(body).toContain('"exported work"');
    expect(body).toContain('"spec-exporter"');
    expect(body).toContain('"1.2.3"');
    expect(body).toContain('"wf-1"');

    // Metrics follow the OTEL_* variables: OTLP over HTTP/protobuf to <endpoint>/v1/metrics.
    const metricRequests = received.filter((request) => request.path === '/v1/metrics');
    expect(metricRequests.length).toBeGreaterThanOrEqual(1);
    expect(metricRequests.some((request) => request.body.includes('baton.spec.exported'))).toBe(true);
  }, 60_000);
});
