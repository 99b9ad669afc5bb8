import { TASK_COMPLETED, TOPICS } from '@baton/contracts';
import { transformPatternToRoute } from '@nestjs/microservices/utils';
import { InvalidEventPatternError, RouteTable, parseEventRoute } from './event-route';

describe('parseEventRoute', () => {
  it('reads a topic pattern', () => {
    expect(parseEventRoute(transformPatternToRoute(TOPICS.tasksResults))).toEqual({
      topic: TOPICS.tasksResults,
    });
  });

  it('reads an object pattern as Nest serialised it', () => {
    const serialised = transformPatternToRoute({ type: TASK_COMPLETED, topic: TOPICS.tasksResults });
    expect(parseEventRoute(serialised)).toEqual({ topic: TOPICS.tasksResults, type: TASK_COMPLETED });
  });

  it('reads an object pattern with a topic only', () => {
    expect(parseEventRoute(transformPatternToRoute({ topic: TOPICS.audit }))).toEqual({
      topic: TOPICS.audit,
    });
  });

  it('rejects patterns it cannot route', () => {
    expect(() => parseEventRoute(transformPatternToRoute({ cmd: 'sum' }))).toThrow(InvalidEventPatternError);
    expect(() => parseEventRoute(transformPatternToRoute({ topic: 'a', extra: 1 }))).toThrow(InvalidEventPatternError);
    expect(() => parseEventRoute('')).toThrow(InvalidEventPatternError);
  });
});

describe('RouteTable', () => {
  it('matches type-specific handlers, then topic-wide ones, only on their topic', () => {
    const table = new RouteTable<string>();
    table.add({ topic: TOPICS.tasksResults }, 'all-results');
    table.add({ topic: TOPICS.tasksResults, type: TASK_COMPLETED }, 'completed');
    table.add({ topic: TOPICS.audit }, 'audit');
    expect(table.match(TOPICS.tasksResults, TASK_COMPLETED)).toEqual(['completed', 'all-results']);
    expect(table.match(TOPICS.tasksResults, 'task.failed')).toEqual(['all-results']);
    expect(table.match(TOPICS.workflowEvents, TASK_COMPLETED)).toEqual([]);
    expect(table.topics()).toEqual([TOPICS.tasksResults, TOPICS.audit]);
  });
});
