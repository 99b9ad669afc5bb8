// An agent written outside Baton: plain Node.js, kafkajs and the published
// AsyncAPI document (as JSON), nothing else from this repository. It is what a
// team would write in any language to join Baton by speaking the topics:
//   1. publish `agent.heartbeat` on baton.agents.heartbeats (key: agent id) every few seconds;
//   2. consume baton.tasks.assigned in its own consumer group, take `task.assigned` messages addressed to its
//      agent id (or, without one, for its capability), and honour `task.cancel_requested`;
//   3. publish `task.completed` / `task.failed` on baton.tasks.results (key: workflow id), with a result
//      envelope id derived from the task id so a redelivered task does not complete twice.
// Every message it receives and sends is checked against the JSON Schemas of the AsyncAPI document.
//
// Environment: KAFKA_BROKERS, BATON_TOPIC_PREFIX (tests), ASYNCAPI_JSON (path), AGENT_ID, AGENT_CAPABILITY,
// AGENT_TEAM, PORT (health endpoint: GET /health/ready answers 200 once connected).

// kafkajs directly, not @baton/bus: that is the point (the repository lint bans it only in TypeScript sources).
const { Kafka, logLevel } = require('kafkajs');
const { createHash, randomUUID } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { createServer } = require('node:http');

const env = process.env;
const prefix = env.BATON_TOPIC_PREFIX || '';
const agentId = env.AGENT_ID || 'external-translator';
const capability = env.AGENT_CAPABILITY || 'translation';
const team = env.AGENT_TEAM || 'localization';
const instanceId = `${agentId}-${process.pid}`;
const schemas = JSON.parse(readFileSync(env.ASYNCAPI_JSON, 'utf8')).components.schemas;
const topic = (name) => `${prefix}${name}`;
const log = (msg, extra = {}) => console.log(JSON.stringify({ time: new Date().toISOString(), service: agentId, msg, ...extra }));

// ---- the published schemas, checked with a small JSON Schema subset --------------------------------------
function check(schema, value, path = '$') {
  if (!schema || typeof schema !== 'object') return [];
  if (schema.$ref) return check(resolveRef(schema.$ref), value, path);
  if (schema.anyOf) return schema.anyOf.some((s) => check(s, value, path).length === 0) ? [] : [`${path}: matches no alternative`];
  if (schema.oneOf) return schema.oneOf.some((s) => check(s, value, path).length === 0) ? [] : [`${path}: matches no alternative`];
  const issues = [];
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  const types = schema.type === undefined ? undefined : [].concat(schema.type);
  if (types && !types.some((t) => t === type || (t === 'integer' && Number.isInteger(value))))
    return [`${path}: must be ${types.join('|')}`];
  if ('const' in schema && value !== schema.const) issues.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) issues.push(`${path}: must be one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) issues.push(`${path}: too short`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) issues.push(`${path}: too long`);
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) issues.push(`${path}: does not match ${schema.pattern}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) issues.push(`${path}: below minimum`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) issues.push(`${path}: not above minimum`);
    if (schema.maximum !== undefined && value > schema.maximum) issues.push(`${path}: above maximum`);
  }
  if (type === 'array' && schema.items) value.forEach((item, i) => issues.push(...check(schema.items, item, `${path}[${i}]`)));
  if (type === 'object') {
    for (const key of schema.required || []) if (!(key in value)) issues.push(`${path}.${key}: required`);
    for (const [key, child] of Object.entries(value)) {
      if (schema.properties && schema.properties[key]) issues.push(...check(schema.properties[key], child, `${path}.${key}`));
      else if (schema.additionalProperties === false) issues.push(`${path}.${key}: not allowed`);
    }
  }
  return issues;
}
function resolveRef(ref) {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((node, part) => node[part], { components: { schemas } });
}
function validated(schemaName, envelope) {
  const issues = check(schemas[schemaName], envelope);
  if (issues.length > 0) throw new Error(`${schemaName}: ${issues.join('; ')}`);
  return envelope;
}

// ---- envelopes ------------------------------------------------------------------------------------------
function envelope(type, payload, extra) {
  return { id: randomUUID(), type, version: 1, occurredAt: new Date().toISOString(), source: `external/${instanceId}`, payload, ...extra };
}
function idFromTaskId(taskId) {
  const b = createHash('sha256').update(`external-result:${taskId}`).digest().subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---- the agent ------------------------------------------------------------------------------------------
const kafka = new Kafka({ clientId: instanceId, brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.WARN });
const producer = kafka.producer({ idempotent: true });
const consumer = kafka.consumer({ groupId: `${prefix}external-agent-${agentId}` });
const cancelled = new Set();
let inFlight = 0;
let ready = false;
const startedAt = new Date().toISOString();

async function send(topicName, key, schemaName, value) {
  validated(schemaName, value);
  await producer.send({ topic: topic(topicName), acks: -1, messages: [{ key, value: JSON.stringify(value) }] });
}

async function heartbeat() {
  const payload = {
    agentId,
    instanceId,
    team,
    capabilities: [capability],
    scopes: ['public'],
    models: ['external/rule-based'],
    maxConcurrency: 4,
    inFlight,
    startedAt,
  };
  await send(
    'baton.agents.heartbeats',
    agentId,
    'agent.heartbeat.v1',
    envelope('agent.heartbeat', payload, { correlationId: `heartbeat:${agentId}`, agentId, team }),
  );
}

async function onTask(task, cause) {
  const key = `${task.taskId}#${task.attempt}`;
  if (cancelled.has(key)) return;
  inFlight += 1;
  try {
    const text = JSON.stringify(task.input);
    const output = { translatedBy: agentId, language: 'fr', text: `[fr] ${text}`, characters: text.length };
    const result = envelope(
      'task.completed',
      {
        taskId: task.taskId,
        workflowId: task.workflowId,
        stepId: task.stepId,
        attempt: task.attempt,
        agentId,
        output,
        confidence: 0.88,
        usage: { model: 'external/rule-based', inputTokens: 0, outputTokens: 0, costUsd: 0 },
      },
      {
        id: idFromTaskId(task.taskId),
        correlationId: cause.correlationId,
        causationId: cause.id,
        workflowId: task.workflowId,
        stepId: task.stepId,
        agentId,
        team,
      },
    );
    if (cancelled.has(key)) return;
    await send('baton.tasks.results', task.workflowId, 'task.completed.v1', result);
    log('task completed', { taskId: task.taskId });
  } finally {
    inFlight -= 1;
  }
}

async function main() {
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: topic('baton.tasks.assigned'), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      let received;
      try {
        received = JSON.parse(message.value.toString('utf8'));
      } catch {
        return; // not ours to judge: Baton's own consumers dead-letter garbage
      }
      if (received.type === 'task.cancel_requested' && check(schemas['task.cancel_requested.v1'], received).length === 0) {
        cancelled.add(`${received.payload.taskId}#${received.payload.attempt}`);
        return;
      }
      if (received.type !== 'task.assigned') return;
      const issues = check(schemas['task.assigned.v1'], received);
      if (issues.length > 0) return log('ignored an invalid task.assigned', { issues });
      const task = received.payload;
      const mine = task.agentId ? task.agentId === agentId : task.capability === capability;
      if (mine) await onTask(task, received);
    },
  });
  await heartbeat();
  const timer = setInterval(
    () => heartbeat().catch((error) => log('heartbeat failed', { error: String(error) })),
    Number(env.HEARTBEAT_MS || 1000),
  );
  ready = true;
  log('external agent ready', { agentId, capability });

  const stop = async () => {
    clearInterval(timer);
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

createServer((req, res) => {
  const ok = req.url === '/health/live' || (req.url === '/health/ready' && ready);
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'starting' }));
}).listen(Number(env.PORT || 0), '127.0.0.1');

main().catch((error) => {
  log('external agent failed', { error: String(error && error.stack) });
  process.exit(1);
});
