import { randomUUID } from 'node:crypto';
import {
  type Envelope,
  TASK_COMPLETED,
  TASK_FAILED,
  TOPICS,
  WORKFLOW_COMPLETED,
  createEnvelope,
  dlqTopic,
  taskCompleted,
  taskFailed,
  workflowCompleted,
  workflowFailed,
} from '@baton/contracts';
import { Controller, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { type Observable, timer } from 'rxjs';
import { map } from 'rxjs/operators';
import { NonRetryableError } from '../core/errors';
import { KafkaBus } from '../core/kafka-bus';
import { capturingLogger, committedOffsets, eventually, readTopic, taskCompletedEnvelope, uniquePrefix } from '../testing/bus-test-kit';
import { BatonContext } from './baton-context';
import { BatonKafkaTransport } from './baton-kafka.transport';
import { BusModule } from './bus.module';

const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter((broker) => broker !== '');
const prefix = uniquePrefix();
const groupId = `nest-${randomUUID()}`;

const completedHandled: { envelope: Envelope; topic: string; key: string | null; contractType: string }[] = [];
const anyResult: string[] = [];
const workflowTypes: string[] = [];

@Controller()
class ResultsController {
  @EventPattern({ topic: TOPICS.tasksResults, type: TASK_COMPLETED })
  onCompleted(@Payload() envelope: Envelope, @Ctx() ctx: BatonContext): void {
    completedHandled.push({ envelope, topic: ctx.topic, key: ctx.key, contractType: ctx.contract.type });
  }

  /** Every type on the topic; completes asynchronously as an Observable. */
  @EventPattern(TOPICS.tasksResults)
  onAnyResult(@Payload() envelope: Envelope): Observable<void> {
    return timer(20).pipe(map(() => void anyResult.push(envelope.type)));
  }

  /** The only workflow-events handler: other types on that topic have none. */
  @EventPattern({ topic: TOPICS.workflowEvents, type: WORKFLOW_COMPLETED })
  onWorkflowCompleted(@Payload() envelope: Envelope): void {
    workflowTypes.push(envelope.type);
  }

  @EventPattern({ topic: TOPICS.tasksResults, type: TASK_FAILED })
  onFailed(@Payload() envelope: Envelope): void {
    throw new NonRetryableError(`cannot accept failure of ${String((envelope.payload as { stepId: string }).stepId)}`);
  }
}

let app: INestApplication;

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [
      BusModule.forRootAsync({
        useFactory: () => ({
          brokers,
          clientId: 'nest-int',
          topicPrefix: prefix,
          groupId,
          topics: [TOPICS.tasksResults, TOPICS.workflowEvents],
          retry: { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 100 },
          logger: capturingLogger(),
        }),
      }),
    ],
    controllers: [ResultsController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  app.connectMicroservice({ strategy: app.get(BatonKafkaTransport) });
  await app.startAllMicroservices();
  await app.init();
});

afterAll(async () => {
  await app?.close();
});

describe('BatonKafkaTransport', () => {
  it('delivers envelopes to @EventPattern handlers by topic and by type, then commits', async () => {
    const bus = app.get(KafkaBus);
    const completed = taskCompletedEnvelope();
    const failed = createEnvelope(
      taskFailed,
      {
        taskId: randomUUID(),
        workflowId: completed.payload.workflowId,
        stepId: 'step-9',
        attempt: 1,
        agentId: 'agent-1',
        error: { code: 'E', message: 'nope', retryable: false },
      },
      { source: 'bus-test', correlationId: completed.correlationId },
    );
    await bus.publish(taskCompleted, completed);
    await bus.publish(taskFailed, failed);

    await eventually(() => (anyResult.length >= 1 && completedHandled.length >= 1 ? true : undefined), 60_000, 'delivery');
    expect(completedHandled).toEqual([
      {
        envelope: completed,
        topic: TOPICS.tasksResults,
        key: completed.payload.workflowId,
        contractType: TASK_COMPLETED,
      },
    ]);

    // The failure handler's NonRetryableError reaches the bus intact: one attempt, its own message as the reason.
    const [dead] = await readTopic(brokers, dlqTopic(`${prefix}${TOPICS.tasksResults}`), 1);
    expect(dead?.headers['baton-dlq-attempts']).toBe('1');
    expect(dead?.headers['baton-dlq-reason']).toBe('NonRetryableError: cannot accept failure of step-9');
    // The type-specific handler threw first, so the topic-wide one never saw the failed message.
    expect(anyResult).toEqual([TASK_COMPLETED]);

    const committed = await eventually(
      async () => {
        const offsets = [...(await committedOffsets(brokers, `${prefix}${groupId}`, `${prefix}${TOPICS.tasksResults}`)).values()];
        const done = offsets.filter((offset) => offset !== '-1');
        return done.length === 1 && done[0] === '2' ? done : undefined;
      },
      30_000,
      'both offsets committed',
    );
    expect(committed).toEqual(['2']);
  });

  it('commits and skips a valid message whose type has no handler', async () => {
    const bus = app.get(KafkaBus);
    const workflowId = randomUUID();
    const meta = { source: 'bus-test', correlationId: workflowId, workflowId };
    await bus.publish(
      workflowFailed,
      createEnvelope(workflowFailed, { workflowId, error: { code: 'E', message: 'x', retryable: false } }, meta),
    );
    await bus.publish(workflowCompleted, createEnvelope(workflowCompleted, { workflowId, output: { ok: true } }, meta));

    await eventually(() => (workflowTypes.length > 0 ? true : undefined), 60_000, 'workflow.completed');
    expect(workflowTypes).toEqual([WORKFLOW_COMPLETED]);
    const committed = await eventually(
      async () => {
        const offsets = [...(await committedOffsets(brokers, `${prefix}${groupId}`, `${prefix}${TOPICS.workflowEvents}`)).values()];
        const done = offsets.filter((offset) => offset !== '-1');
        return done.length === 1 && done[0] === '2' ? done : undefined;
      },
      30_000,
      'both workflow-event offsets committed',
    );
    expect(committed).toEqual(['2']);
  });
});
