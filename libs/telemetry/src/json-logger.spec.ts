import { trace } from '@opentelemetry/api';
import { JsonLogger, type LogSink } from './json-logger';
import { runWithLogContext } from './log-context';
import { startTelemetry, type TelemetryHandle } from './start-telemetry';
import { withSpan } from './with-span';

interface Line {
  stream: 'stdout' | 'stderr';
  entry: Record<string, unknown>;
}

function capture(): { lines: Line[]; sink: LogSink } {
  const lines: Line[] = [];
  return {
    lines,
    sink: (stream, text) => {
      expect(text.endsWith('\n')).toBe(true);
      expect(text.slice(0, -1)).not.toContain('\n');
      lines.push({ stream, entry: JSON.parse(text) as Record<string, unknown> });
    },
  };
}

let telemetry: TelemetryHandle;
beforeAll(() => {
  telemetry = startTelemetry({ serviceName: 'spec-logger' });
});
afterAll(() => telemetry.shutdown());

class ContractBroken extends Error {
  override readonly name = 'ContractBroken';
  constructor(readonly issues: readonly string[]) {
    super(`invalid: ${issues.join('; ')}`);
  }
}

describe('JsonLogger', () => {
  it('writes the log context ids and the active trace ids on each line', async () => {
    const { lines, sink } = capture();
    const logger = new JsonLogger({ service: 'router', sink });

    const ids = await runWithLogContext({ correlationId: 'corr-7', workflowId: 'wf-42' }, () =>
      withSpan('assign', {}, async (span) => {
        await Promise.resolve();
        logger.log('step assigned', 'Assigner');
        return span.spanContext();
      }),
    );

    expect(lines).toHaveLength(1);
    expect(lines[0]?.stream).toBe('stdout');
    expect(lines[0]?.entry).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      level: 'log',
      service: 'router',
      context: 'Assigner',
      msg: 'step assigned',
      correlationId: 'corr-7',
      workflowId: 'wf-42',
      traceId: ids.traceId,
      spanId: ids.spanId,
    });
  });

  it('merges structured fields, nested log contexts and keeps the reserved keys', () => {
    const { lines, sink } = capture();
    const logger = new JsonLogger({ service: 'router', context: 'Default', sink });

    runWithLogContext({ correlationId: 'outer' }, () =>
      runWithLogContext({ workflowId: 'wf-1', tenant: 'acme' }, () =>
        logger.log({ msg: 'dispatched', stepId: 'triage', attempt: 2, level: 'ignored' }),
      ),
    );

    expect(lines[0]?.entry).toMatchObject({
      level: 'log',
      context: 'Default',
      msg: 'dispatched',
      stepId: 'triage',
      attempt: 2,
      correlationId: 'outer',
      workflowId: 'wf-1',
      tenant: 'acme',
    });
    expect(lines[0]?.entry['traceId']).toBeUndefined();
  });

  it('serialises errors with name, message, stack and their own fields, on stderr', () => {
    const { lines, sink } = capture();
    const logger = new JsonLogger({ service: 'bus', sink });
    const error = new ContractBroken(['payload.stepId: required']);

    logger.error(error, 'Consumer');

    expect(lines[0]?.stream).toBe('stderr');
    expect(lines[0]?.entry).toMatchObject({
      level: 'error',
      context: 'Consumer',
      msg: 'invalid: payload.stepId: required',
      err: {
        name: 'ContractBroken',
        message: 'invalid: payload.stepId: required',
        stack: expect.stringContaining('ContractBroken: invalid'),
        issues: ['payload.stepId: required'],
      },
    });
  });

  it("understands Nest's error(message, stack, context) call", () => {
    const { lines, sink } = capture();
    const logger = new JsonLogger({ service: 'router', sink });
    const stack = new Error('boom').stack ?? '';

    logger.error('request failed', stack, 'ExceptionsHandler');

    expect(lines[0]?.entry).toMatchObject({
      msg: 'request failed',
      context: 'ExceptionsHandler',
      err: { stack },
    });
  });

  it('writes only levels at or above the threshold', () => {
    const { lines, sink } = capture();
    const logger = new JsonLogger({ service: 'router', level: 'warn', sink });

    logger.debug('noise');
    logger.log('info');
    logger.warn('careful');
    logger.fatal('down');
    logger.setLogLevels(['debug']);
    logger.debug('now visible');

    expect(lines.map((line) => [line.stream, line.entry['level'], line.entry['msg']])).toEqual([
      ['stderr', 'warn', 'careful'],
      ['stderr', 'fatal', 'down'],
      ['stdout', 'debug', 'now visible'],
    ]);
  });

  it('never throws on values JSON cannot hold', () => {
    const { lines, sink } = capture();
    const logger = new JsonLogger({ service: 'router', sink });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;

    logger.log({ msg: 'odd values', cyclic, big: 10n });

    expect(lines[0]?.entry).toMatchObject({ cyclic: { name: 'loop', self: '[Circular]' }, big: '10' });
  });

  it('has no trace ids outside a span', () => {
    const { lines, sink } = capture();
    new JsonLogger({ service: 'router', sink }).log('idle');
    expect(trace.getActiveSpan()).toBeUndefined();
    expect(lines[0]?.entry).not.toHaveProperty('traceId');
  });
});
