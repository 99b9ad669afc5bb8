import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { KafkaBus, type ConsumedMessage } from '@baton/bus';
import { TASK_COMPLETED, TASK_FAILED, TOPICS } from '@baton/contracts';
import { ROUTER_CONFIG, type RouterConfig } from '../config/router-config';
import { WorkflowsService, type TaskResult } from './workflows.service';

export const TASK_RESULTS_GROUP = 'router.task-results';

const isTaskResult = (message: ConsumedMessage): boolean =>
  message.envelope.type === TASK_COMPLETED || message.envelope.type === TASK_FAILED;

const taskResultOf = ({ envelope, traceContext }: ConsumedMessage): TaskResult => ({
  envelope: envelope as TaskResult['envelope'],
  traceContext,
});

/**
 * Task results are consumed a fetched batch at a time (their own consumer
 * group): under load one transaction advances many workflows, which is what
 * lets the router keep up with hundreds of steps a second. A failing batch is
 * retried by the bus one message at a time, each as a batch of one.
 */
@Injectable()
export class TaskResultsConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly bus: KafkaBus,
    private readonly workflows: WorkflowsService,
    @Inject(ROUTER_CONFIG) private readonly config: RouterConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Closed by the bus on shutdown, after in-flight batches finish and commit.
    await this.bus.subscribeBatch({
      groupId: TASK_RESULTS_GROUP,
      topics: [TOPICS.tasksResults],
      partitionsConsumedConcurrently: this.config.consumerConcurrency,
      batchHandler: (messages) => this.workflows.onTaskResults(messages.filter(isTaskResult).map(taskResultOf)),
      handler: async (message) => {
        if (isTaskResult(message)) await this.workflows.onTaskResults([taskResultOf(message)]);
      },
    });
  }
}
