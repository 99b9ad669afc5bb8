import type { Admin } from 'kafkajs';
import { awaitTopicLeaders } from './topic-leaders';

type Metadata = Awaited<ReturnType<Admin['fetchTopicMetadata']>>;

/** Answers as a busy broker does right after creating `topic`: not hosted yet, then leaderless, then led. */
function busyBroker(answers: Array<'not hosted' | 'no leader' | 'led'>) {
  let calls = 0;
  const admin = {
    fetchTopicMetadata: async ({ topics }: { topics: string[] }): Promise<Metadata> => {
      const answer = answers[Math.min(calls, answers.length - 1)];
      calls += 1;
      if (answer === 'not hosted') throw new Error('This server does not host this topic-partition');
      const leader = answer === 'led' ? 0 : -1;
      return {
        topics: topics.map((name) => ({
          name,
          partitions: [{ partitionId: 0, leader, replicas: [0], isr: [0], offlineReplicas: [], partitionErrorCode: 0 }],
        })),
      };
    },
  };
  return { admin, calls: () => calls };
}

describe('awaitTopicLeaders', () => {
  it('keeps asking through "does not host" and leaderless answers until every partition is led', async () => {
    const { admin, calls } = busyBroker(['not hosted', 'not hosted', 'no leader', 'led']);
    await expect(awaitTopicLeaders(admin, ['t'], { intervalMs: 1 })).resolves.toBeUndefined();
    expect(calls()).toBe(4);
  });

  it('gives up at the deadline naming the topics and the last error', async () => {
    const { admin } = busyBroker(['not hosted']);
    await expect(awaitTopicLeaders(admin, ['a', 'b'], { timeoutMs: 30, intervalMs: 1 })).rejects.toThrow(
      /topics a, b have no leaders after 30 ms: Error: This server does not host this topic-partition/,
    );
  });
});
