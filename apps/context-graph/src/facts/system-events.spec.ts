import { ContractValidationError, type CloudEvent } from '@baton/contracts';
import { factFromCloudEvent } from './system-events.consumer';

const base: CloudEvent = { specversion: '1.0', id: 'e-1', source: '//monitoring', type: 'incident.opened' };

describe('factFromCloudEvent', () => {
  it('names the entity by the entitykind/entityid extensions, with scopes and a stable id', () => {
    const fact = factFromCloudEvent({
      ...base,
      entitykind: 'Customer',
      entityid: 'acme',
      scopes: 'customer-data, billing',
      data: { sla: 'breached' },
    });
    expect(fact.body).toMatchObject({
      about: { kind: 'Customer', id: 'acme' },
      attribute: 'event.incident.opened',
      scopes: ['customer-data', 'billing'],
    });
    expect(fact.id).toBe(factFromCloudEvent({ ...base, entitykind: 'Customer', entityid: 'acme' }).id);
    expect(fact.id).not.toBe(factFromCloudEvent({ ...base, id: 'e-2', entitykind: 'Customer', entityid: 'acme' }).id);
  });

  it('falls back to the Service in data.service and rejects events naming nothing', () => {
    expect(factFromCloudEvent({ ...base, data: { service: 'checkout-api' } }).body.about).toEqual({
      kind: 'Service',
      id: 'checkout-api',
    });
    expect(() => factFromCloudEvent({ ...base, data: { note: 1 } })).toThrow(ContractValidationError);
    expect(() => factFromCloudEvent({ ...base, entitykind: 'Service', entityid: 'MATCH (n) DELETE n' })).toThrow(
      /event\.about\.id: must be letters/,
    );
  });
});
