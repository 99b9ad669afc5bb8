import type { WorkflowDefinition } from '@baton/contracts';
import { stepAfter, stepInput } from './sequential-plan';

const definition: WorkflowDefinition = {
  name: 'review',
  pattern: 'sequential',
  steps: [
    { id: 'extract', capability: 'extraction' },
    { id: 'classify', capability: 'classification', params: { labels: ['a', 'b'] } },
  ],
};

describe('sequential plan', () => {
  it('names the step after a given one, and none after the last', () => {
    expect(stepAfter(definition, 'extract')?.id).toBe('classify');
    expect(stepAfter(definition, 'classify')).toBeUndefined();
  });

  it('refuses a step that is not in the definition', () => {
    expect(() => stepAfter(definition, 'sign-off')).toThrow('step "sign-off" is not in workflow definition "review"');
  });

  it('feeds the previous output to the next step with its params', () => {
    expect(stepInput(definition.steps[1]!, { text: 'x' })).toEqual({ input: { text: 'x' }, params: { labels: ['a', 'b'] } });
    expect(stepInput(definition.steps[0]!, 'raw')).toEqual({ input: 'raw' });
  });
});
