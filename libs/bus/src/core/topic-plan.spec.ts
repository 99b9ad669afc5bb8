import { TOPICS } from '@baton/contracts';
import { planTopics } from './topic-plan';

describe('planTopics', () => {
  it('prefixes each topic and adds its single-partition DLQ', () => {
    const planned = planTopics([TOPICS.tasksResults], 't-x.', 1);
    expect(planned).toEqual([
      { topic: 't-x.baton.tasks.results', numPartitions: 6, replicationFactor: 1, configEntries: [] },
      { topic: 't-x.baton.tasks.results.dlq', numPartitions: 1, replicationFactor: 1, configEntries: [] },
    ]);
  });

  it('compacts catalogue topics marked compacted, never their DLQ', () => {
    const [policies, dlq] = planTopics([TOPICS.governancePolicies], '', 3);
    expect(policies).toEqual({
      topic: 'baton.governance.policies',
      numPartitions: 1,
      replicationFactor: 3,
      configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
    });
    expect(dlq?.configEntries).toEqual([]);
  });

  it('gives topics outside the catalogue the default partition count, once each', () => {
    const planned = planTopics(['custom.topic', 'custom.topic'], '', 1);
    expect(planned.map((topic) => [topic.topic, topic.numPartitions])).toEqual([
      ['custom.topic', 6],
      ['custom.topic.dlq', 1],
    ]);
  });
});
