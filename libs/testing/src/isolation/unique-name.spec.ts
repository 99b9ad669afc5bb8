import { uniqueName } from './unique-name';

describe('uniqueName', () => {
  it('keeps the prefix and adds a lowercase alphanumeric suffix', () => {
    expect(uniqueName('t-')).toMatch(/^t-[a-z0-9]{10}$/);
    expect(uniqueName('t_', 6)).toMatch(/^t_[a-z0-9]{6}$/);
  });

  it('does not repeat across many calls', () => {
    const names = new Set(Array.from({ length: 1000 }, () => uniqueName('t_')));
    expect(names.size).toBe(1000);
  });
});
