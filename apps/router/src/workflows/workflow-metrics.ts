import { createMetrics } from '@baton/telemetry';
import type { WorkflowStepEntity } from '../persistence/workflow-step.entity';
import type { WorkflowEntity } from '../persistence/workflow.entity';

const metrics = createMetrics('router');

/** Seconds, from a no-op step (milliseconds) to a long agent task or a workflow that waits on people (an hour). */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

const stepDuration = metrics.histogram('baton.step.duration', {
  unit: 's',
  description: 'One step attempt, from its dispatch (or its first wait for an agent) to its result',
  advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
});

const workflowDuration = metrics.histogram('baton.workflow.duration', {
  unit: 's',
  description: 'A workflow from its start to completed, failed or cancelled',
  advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
});

/**
 * What one transition observed, recorded only once its transaction committed:
 * a transaction that rolls back (and is handled again) must not count twice.
 */
export class TransitionMetrics {
  private readonly observations: Array<() => void> = [];

  /** A step attempt got its result: `errorCode` when it failed (timed_out, no_eligible_agent, an agent's code). */
  attemptEnded(step: WorkflowStepEntity, errorCode?: string): void {
    const started = step.dispatchedAt;
    if (started === null) return;
    const seconds = Math.max(0, Date.now() - started.getTime()) / 1000;
    const attributes = {
      'baton.capability': step.capability,
      'baton.step.outcome': errorCode === undefined ? 'completed' : 'failed',
      ...(errorCode !== undefined ? { 'error.type': errorCode } : {}),
    };
    this.observations.push(() => stepDuration.record(seconds, attributes));
  }

  workflowEnded(workflow: WorkflowEntity): void {
    const seconds = Math.max(0, Date.now() - workflow.createdAt.getTime()) / 1000;
    const attributes = { 'baton.workflow.pattern': workflow.definition.pattern, 'baton.workflow.status': workflow.status };
    this.observations.push(() => workflowDuration.record(seconds, attributes));
  }

  recordCommitted(): void {
    for (const record of this.observations.splice(0)) record();
  }
}
