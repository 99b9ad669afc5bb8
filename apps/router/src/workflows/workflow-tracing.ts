import { type Attributes, type Context, context, ROOT_CONTEXT, type Span, trace } from '@opentelemetry/api';
import { extractTraceContext, injectTraceHeaders, markSpanFailed } from '@baton/telemetry';
import type { PolicyCheck } from '../agents/assignment';

/**
 * One trace per workflow (DESIGN, observability). A workflow's trace starts at
 * the span that started it (the HTTP request or the request message); every
 * message a transition emits carries the context it was caused in, so the
 * runners, and the router again when results come back, continue that trace.
 * Transitions no message causes (retry and deadline timers, waiting steps,
 * reassignment, cancellation) rejoin it through the start span's traceparent,
 * stored with the workflow.
 */
const tracer = () => trace.getTracer('@baton/router');

export const SPAN_ATTRIBUTES = {
  workflowId: 'baton.workflow.id',
  workflowName: 'baton.workflow.name',
  pattern: 'baton.workflow.pattern',
  stepId: 'baton.step.id',
  taskId: 'baton.task.id',
  attempt: 'baton.step.attempt',
  capability: 'baton.capability',
  agentId: 'baton.agent.id',
  routeOutcome: 'baton.route.outcome',
  routeReason: 'baton.route.reason',
  excluded: 'baton.route.excluded_agents',
} as const;

/** The span a workflow starts in, child of whatever caused it. */
export function startWorkflowSpan(parent: Context, attributes: Attributes): Span {
  return tracer().startSpan('start workflow', { attributes }, parent);
}

/** W3C traceparent of `span`, stored with its workflow; null when tracing is off (no valid span). */
export function traceParentOf(span: Span): string | null {
  return injectTraceHeaders(trace.setSpan(ROOT_CONTEXT, span))['traceparent'] ?? null;
}

/** The workflow's trace, to continue from a transition no message caused. */
export function workflowTraceContext(traceParent: string | null): Context {
  return traceParent === null ? ROOT_CONTEXT : extractTraceContext({ traceparent: traceParent });
}

/** Runs `work` in a span of the workflow's trace (a transition no message caused). */
export async function inWorkflowTrace<T>(
  name: string,
  traceParent: string | null,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  const parent = workflowTraceContext(traceParent);
  const span = tracer().startSpan(name, { attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    markSpanFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/**
 * A routing decision as a span: from when the step asked for an agent to the
 * choice, made when the transaction reserves agents. Its policy decision, when
 * the task has data scopes, is a child span. `emit` runs inside the route span,
 * so the task it assigns continues the trace under the decision.
 */
export function recordRoute(
  parent: Context,
  requestedAt: number,
  attributes: Attributes,
  policy: PolicyCheck | undefined,
  emit: () => void,
): void {
  const span = tracer().startSpan(
    `route ${String(attributes[SPAN_ATTRIBUTES.capability])}`,
    { attributes, startTime: requestedAt },
    parent,
  );
  const routeContext = trace.setSpan(parent, span);
  try {
    if (policy !== undefined) recordPolicyDecision(routeContext, requestedAt, policy);
    context.with(routeContext, emit);
  } finally {
    span.end();
  }
}

function recordPolicyDecision(parent: Context, startTime: number, policy: PolicyCheck): void {
  tracer()
    .startSpan(
      `policy ${policy.action}`,
      {
        startTime,
        attributes: {
          'baton.policy.action': policy.action,
          'baton.policy.scopes': [...policy.scopes],
          'baton.policy.evaluated_agents': policy.evaluated,
          'baton.policy.permitted_agents': policy.permitted,
          'baton.policy.decision': policy.permitted > 0 ? 'allow' : 'deny',
          ...(policy.refusal !== undefined ? { 'baton.policy.refusal': policy.refusal } : {}),
        },
      },
      parent,
    )
    .end();
}
