import { ContractValidationError } from '../../envelope/validation-error';
import { cloudEventExtensions } from './cloud-event';
import { cloudEventMode, parseCloudEventRecord } from './cloud-event-record';

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

/** The issues of the ContractValidationError `fn` throws (fails the test if it throws nothing else). */
function issuesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ContractValidationError) return error.issues;
    throw error;
  }
  throw new Error('expected a ContractValidationError');
}

// Examples below are taken from the CloudEvents 1.0 specification (core, JSON format, Kafka binding).
describe('parseCloudEventRecord, structured mode', () => {
  const headers = { 'content-type': 'application/cloudevents+json; charset=UTF-8' };

  it('reads the JSON format example with text data and extensions', () => {
    const event = parseCloudEventRecord({
      headers,
      value: json({
        specversion: '1.0',
        type: 'com.github.pull_request.opened',
        source: 'https://github.com/cloudevents/spec/pull',
        subject: '123',
        id: 'A234-1234-1234',
        time: '2018-04-05T17:31:00Z',
        comexampleextension1: 'value',
        comexampleothervalue: 5,
        datacontenttype: 'text/xml',
        data: '<much wow="xml"/>',
      }),
    });

    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'com.github.pull_request.opened',
      source: 'https://github.com/cloudevents/spec/pull',
      subject: '123',
      id: 'A234-1234-1234',
      time: '2018-04-05T17:31:00Z',
      datacontenttype: 'text/xml',
      data: '<much wow="xml"/>',
    });
    expect(cloudEventExtensions(event)).toEqual({ comexampleextension1: 'value', comexampleothervalue: 5 });
  });

  it('reads JSON data and base64 data', () => {
    const base = {
      specversion: '1.0',
      type: 'com.example.someevent',
      source: '/mycontext',
      id: 'A234-1234-1234',
    };
    const withJson = parseCloudEventRecord({
      headers,
      value: json({
        ...base,
        datacontenttype: 'application/json',
        data: { appinfoA: 'abc', appinfoB: 123, appinfoC: true },
      }),
    });
    expect(withJson.data).toEqual({ appinfoA: 'abc', appinfoB: 123, appinfoC: true });

    const withBinary = parseCloudEventRecord({
      headers,
      value: json({
        ...base,
        datacontenttype: 'application/vnd.apache.thrift.binary',
        data_base64: 'AAECAwQ=',
      }),
    });
    expect(withBinary.data_base64).toBe('AAECAwQ=');
    expect(withBinary.data).toBeUndefined();
  });

  it('accepts the spec source examples (URI-references)', () => {
    for (const source of [
      'https://github.com/cloudevents',
      'mailto:cncf-wg-serverless@lists.cncf.io',
      'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66',
      'cloudevents/spec/pull/123',
      '/sensors/tn-1234567/alerts',
      '1-555-123-4567',
    ]) {
      const event = parseCloudEventRecord({
        headers,
        value: json({ specversion: '1.0', type: 't', source, id: '1' }),
      });
      expect(event.source).toBe(source);
    }
  });

  it('treats null attributes as absent', () => {
    const event = parseCloudEventRecord({
      headers,
      value: json({ specversion: '1.0', type: 't', source: '/s', id: '1', subject: null, data: null }),
    });
    expect(event).not.toHaveProperty('subject');
    expect(event.data).toBeNull();
  });

  it('names every missing or invalid attribute', () => {
    expect(issuesOf(() => parseCloudEventRecord({ headers, value: json({ specversion: '1.0', type: 'x' }) }))).toEqual([
      'id: required',
      'source: required',
    ]);
    expect(
      issuesOf(() =>
        parseCloudEventRecord({
          headers,
          value: json({
            specversion: '0.3',
            id: '',
            source: 'has spaces',
            type: 'x',
            time: 'yesterday',
            dataschema: '/relative/only',
            datacontenttype: 'json',
          }),
        }),
      ),
    ).toEqual([
      'specversion: Invalid input: expected "1.0"',
      'id: Too small: expected string to have >=1 characters',
      'source: must be a URI-reference (RFC 3986)',
      'datacontenttype: must be a media type (RFC 2046)',
      'dataschema: must be an absolute URI (RFC 3986)',
      'time: must be an RFC 3339 timestamp',
    ]);
  });

  it('rejects extension names and values the spec forbids, and data with data_base64', () => {
    const base = { specversion: '1.0', type: 't', source: '/s', id: '1' };
    expect(issuesOf(() => parseCloudEventRecord({ headers, value: json({ ...base, 'Bad-Name': 'x' }) }))).toEqual([
      'Bad-Name: extension attribute names must be lower-case letters and digits',
    ]);
    expect(issuesOf(() => parseCloudEventRecord({ headers, value: json({ ...base, nested: { a: 1 } }) }))).toHaveLength(1);
    expect(issuesOf(() => parseCloudEventRecord({ headers, value: json({ ...base, big: 2 ** 40 }) }))[0]).toMatch(/^big: /);
    expect(issuesOf(() => parseCloudEventRecord({ headers, value: json({ ...base, data: 1, data_base64: 'AA==' }) }))).toEqual([
      'data_base64: data and data_base64 are mutually exclusive',
    ]);
  });

  it('rejects garbage values', () => {
    expect(issuesOf(() => parseCloudEventRecord({ headers, value: Buffer.from('{"specversion":') }))[0]).toMatch(/^\(root\): not JSON/);
    expect(issuesOf(() => parseCloudEventRecord({ headers, value: json([1, 2]) }))).toEqual(['(root): must be a JSON object']);
    expect(issuesOf(() => parseCloudEventRecord({ headers, value: null }))).toEqual(['(root): empty message']);
  });
});

describe('parseCloudEventRecord, binary mode', () => {
  const kafkaBindingExample = {
    ce_specversion: '1.0',
    ce_type: 'com.example.someevent',
    ce_source: '/mycontext/subcontext',
    ce_id: '1234-1234-1234',
    ce_time: '2018-04-05T03:56:24Z',
  };

  it('reads the Kafka binding example: attributes from ce_ headers, content-type, binary data', () => {
    const avro = Buffer.from([0x02, 0x06, 0x66, 0x6f, 0x6f]);
    const event = parseCloudEventRecord({
      headers: {
        ...kafkaBindingExample,
        'content-type': 'application/avro',
        ce_comexampleextension1: 'value',
      },
      value: avro,
    });

    expect(event).toEqual({
      specversion: '1.0',
      type: 'com.example.someevent',
      source: '/mycontext/subcontext',
      id: '1234-1234-1234',
      time: '2018-04-05T03:56:24Z',
      datacontenttype: 'application/avro',
      data_base64: avro.toString('base64'),
      comexampleextension1: 'value',
    });
  });

  it('parses JSON data (JSON content-type or none) and keeps text as text', () => {
    const data = { deployment: 'checkout', version: '2.4.1' };
    expect(
      parseCloudEventRecord({
        headers: { ...kafkaBindingExample, 'content-type': 'application/json' },
        value: json(data),
      }).data,
    ).toEqual(data);
    expect(
      parseCloudEventRecord({
        headers: { ...kafkaBindingExample, 'content-type': 'application/vnd.deploy+json' },
        value: json(data),
      }).data,
    ).toEqual(data);
    expect(parseCloudEventRecord({ headers: kafkaBindingExample, value: json(data) }).data).toEqual(data);
    expect(
      parseCloudEventRecord({
        headers: { ...kafkaBindingExample, 'content-type': 'text/plain' },
        value: Buffer.from('hello'),
      }).data,
    ).toBe('hello');
    expect(parseCloudEventRecord({ headers: kafkaBindingExample, value: null })).not.toHaveProperty('data');
  });

  it('names the header to fix', () => {
    const { ce_source: _source, ...withoutSource } = kafkaBindingExample;
    expect(issuesOf(() => parseCloudEventRecord({ headers: withoutSource, value: null }))).toEqual(['ce_source: required']);
    expect(
      issuesOf(() =>
        parseCloudEventRecord({
          headers: { ...kafkaBindingExample, ce_time: 'noon', 'content-type': 'not a media type' },
          value: null,
        }),
      ),
    ).toEqual(['content-type: must be a media type (RFC 2046)', 'ce_time: must be an RFC 3339 timestamp']);
    expect(issuesOf(() => parseCloudEventRecord({ headers: { ...kafkaBindingExample, ce_Region: 'eu' }, value: null }))).toEqual([
      'ce_Region: extension attribute names must be lower-case letters and digits',
    ]);
    expect(issuesOf(() => parseCloudEventRecord({ headers: kafkaBindingExample, value: Buffer.from('not json') }))[0]).toMatch(
      /^value: not JSON/,
    );
  });
});

describe('cloudEventMode', () => {
  it('detects the mode from the headers and rejects records that are neither', () => {
    expect(cloudEventMode({ 'Content-Type': 'application/cloudevents+json' })).toBe('structured');
    expect(cloudEventMode({ ce_specversion: '1.0', 'content-type': 'application/json' })).toBe('binary');
    expect(issuesOf(() => cloudEventMode({ 'content-type': 'application/json' }))).toEqual([
      'ce_specversion: required for binary mode, or content-type: application/cloudevents+json for structured mode',
    ]);
    expect(issuesOf(() => cloudEventMode({ 'content-type': 'application/cloudevents-batch+json' }))[0]).toMatch(
      /^content-type: application\/cloudevents-batch\+json is not supported/,
    );
  });
});
