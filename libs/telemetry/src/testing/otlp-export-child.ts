// Child process for otlp-export.spec.ts: the OTLP exporter loads node:http with
// a dynamic import(), which jest's module sandbox refuses, so export is tested
// the way a service runs it, in a plain Node process.
import { createMetrics } from '../metrics';
import { startTelemetry } from '../start-telemetry';
import { withSpan } from '../with-span';

async function main(): Promise<void> {
  const telemetry = startTelemetry({ serviceName: 'spec-exporter', serviceVersion: '1.2.3' });
  await withSpan('exported work', { 'baton.workflow.id': 'wf-1' }, async () => undefined);
  createMetrics('spec').counter('baton.spec.exported').add(1);
  // Shutdown flushes spans and metrics: the requests have completed when it resolves.
  await telemetry.shutdown();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
