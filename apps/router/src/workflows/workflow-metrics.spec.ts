import { startTelemetry } from '@baton/telemetry';
import { OnDemandMetricReader } from '@baton/telemetry/testing';
import type { WorkflowStepEntity } from '../persistence/workflow-step.entity';
import type { WorkflowEntity } from '../persistence/workflow.entity';
import { TransitionMetrics } from './workflow-metrics';

const reader = new OnDemandMetricReader();
const telemetry = startTelemetry({ serviceName: 'spec-router-metrics', metricReaders: [reader] });
afterAll(() => telemetry.shutdown());

async function histogram(name: string): Promise<Array<{ attributes: Record<string, unknown>; count: number; sum: number }>> {
  return (await reader.points(name)).map((point) => {
    const value = point.value as { count: number; sum: number };
    return { attributes: point.attributes, count: value.count, sum: value.sum };
  });
}

const secondsAgo = (seconds: number): Date => new Date(Date.now() - seconds * 1000);

function step(capability: string, dispatchedAt: Date | null): WorkflowStepEntity {
  return { capability, dispatchedAt } as WorkflowStepEntity;
}

describe('TransitionMetrics', () => {
  it('records step attempts and finished workflows only once the transaction committed', async () => {
    const committed = new TransitionMetrics();
    committed.attemptEnded(step('triage', secondsAgo(2)));
    committed.attemptEnded(step('triage', secondsAgo(1)), 'timed_out');
    committed.attemptEnded(step('triage', null));
    committed.workflowEnded({ createdAt: secondsAgo(5), status: 'failed', definition: { pattern: 'parallel' } } as WorkflowEntity);
    const rolledBack = new TransitionMetrics();
    rolledBack.attemptEnded(step('triage', secondsAgo(3)));

    expect(await histogram('baton.step.duration')).toEqual([]);
    committed.recordCommitted();
    committed.recordCommitted();

    const steps = await histogram('baton.step.duration');
    expect(steps).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ attributes: { 'baton.capability': 'triage', 'baton.step.outcome': 'completed' }, count: 1 }),
        expect.objectContaining({
          attributes: { 'baton.capability': 'triage', 'baton.step.outcome': 'failed', 'error.type': 'timed_out' },
          count: 1,
        }),
      ]),
    );
    expect(steps).toHaveLength(2);
    const completed = steps.find((point) => point.attributes['baton.step.outcome'] === 'completed');
    expect(completed?.sum).toBeGreaterThanOrEqual(1.9);
    expect(completed?.sum).toBeLessThan(10);
    const workflows = await histogram('baton.workflow.duration');
    expect(workflows).toEqual([
      expect.objectContaining({ attributes: { 'baton.workflow.pattern': 'parallel', 'baton.workflow.status': 'failed' }, count: 1 }),
    ]);
    expect(workflows[0]!.sum).toBeGreaterThanOrEqual(4.9);
  });
});
