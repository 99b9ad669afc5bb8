import type { JsonValue, StepDefinition, WorkflowDefinition } from '@baton/contracts';

/**
 * Pure rules of the sequential pattern: which step runs after which, and what
 * input it receives. Kept free of I/O so it is tested without infrastructure.
 */
export function stepAfter(definition: WorkflowDefinition, stepId: string): StepDefinition | undefined {
  const index = definition.steps.findIndex((step) => step.id === stepId);
  if (index < 0) throw new Error(`step "${stepId}" is not in workflow definition "${definition.name}"`);
  return definition.steps[index + 1];
}

/** A step's input: the previous output (or the workflow input) with the step's static params alongside. */
export function stepInput(step: StepDefinition, previous: JsonValue): JsonValue {
  if (step.params === undefined) return { input: previous };
  return { input: previous, params: step.params };
}
