import type { Admin } from 'kafkajs';

/**
 * Waits until every partition of `topics` has a leader. kafkajs' own
 * `createTopics({ waitForLeaders: true })` gives up on the first "does not
 * host this topic-partition" a busy broker answers right after creation (it
 * failed e2e runs in CI twice); this keeps asking until the deadline.
 */
export async function awaitTopicLeaders(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  topics: readonly string[],
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
      const led = metadata.every((topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0));
      if (led && metadata.length === topics.length) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms: ${String(lastError ?? 'no leader')}`);
}
