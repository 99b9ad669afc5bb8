import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { KafkaBus, type ConsumedMessage } from '@baton/bus';
import { TASK_COMPLETED, TASK_FAILED, TOPICS, type Envelope, type PayloadOf, type taskCompleted, type taskFailed } from '@baton/contracts';
import { ROUTER_CONFIG, type RouterConfig } from '../config/router-config';
import { WorkflowsService } from './workflows.service';

export const TASK_RESULTS_GROUP = 'router.task-results';

type TaskResult = Envelope<PayloadOf<typeof taskCompleted>> | Envelope<PayloadOf<typeof taskFailed>>;

const isTaskResult = (message: ConsumedMessage): boolean =>
  message.envelope.type === TASK_COMPLETED || message.envelope.type === TASK_FAILED;

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
      batchHandler: (messages) => this.workflows.onTaskResults(messages.filter(isTaskResult).map((m) => m.envelope as TaskResult)),
      handler: async (message) => {
        if (isTaskResult(message)) await this.workflows.onTaskResults([message.envelope as TaskResult]);
      },
    });
  }
}
