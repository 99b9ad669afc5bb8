import { taskContextOf } from './task-context';

describe('taskContextOf', () => {
  it('reads the entities a task input is about once each, ignoring malformed ones', () => {
    expect(
      taskContextOf({
        entities: [
          { kind: 'Service', id: 'a' },
          { kind: 'Service', id: 'a' },
          { kind: 'bad', id: 'x' },
        ],
        contextScopes: ['ops'],
      }),
    ).toEqual({ entities: [{ kind: 'Service', id: 'a' }], scopes: ['ops'] });
    expect(taskContextOf({ document: 'MSA' })).toBeUndefined();
  });
});
