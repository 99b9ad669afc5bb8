import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

// The contract between `infra:up` and everything that needs infrastructure
// (npm start, jest global setup, benchmarks). Keep the shape stable: other
// processes parse this file without importing this module.
export type InfraMode = 'native' | 'env' | 'docker';

export interface InfraEndpoints {
  mode: InfraMode;
  kafka: { brokers: string[] };
  postgres: { url: string };
  neo4j: { uri: string; user: string; password: string };
}

export const REPO_ROOT = resolve(__dirname, '..', '..');

/** `.baton/infra/` at the repository root unless BATON_STATE_DIR says otherwise. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env['BATON_STATE_DIR'];
  return override ? resolve(override) : join(REPO_ROOT, '.baton', 'infra');
}

export function endpointsFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'endpoints.json');
}

export class EndpointsError extends Error {
  override readonly name = 'EndpointsError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new EndpointsError(`${path} must be a non-empty string`);
  }
  return value;
}

/** Validates untrusted JSON into InfraEndpoints; the message names the offending path. */
export function parseEndpoints(value: unknown): InfraEndpoints {
  if (!isRecord(value)) throw new EndpointsError('endpoints must be an object');
  const mode = value['mode'];
  if (mode !== 'native' && mode !== 'env' && mode !== 'docker') {
    throw new EndpointsError('mode must be one of native, env, docker');
  }
  const kafka = value['kafka'];
  if (!isRecord(kafka) || !Array.isArray(kafka['brokers']) || kafka['brokers'].length === 0) {
    throw new EndpointsError('kafka.brokers must be a non-empty array');
  }
  const brokers = kafka['brokers'].map((b, i) => nonEmptyString(b, `kafka.brokers[${i}]`));
  const postgres = value['postgres'];
  if (!isRecord(postgres)) throw new EndpointsError('postgres must be an object');
  const url = nonEmptyString(postgres['url'], 'postgres.url');
  if (!/^postgres(ql)?:\/\//.test(url)) throw new EndpointsError('postgres.url must start with postgres://');
  const neo4j = value['neo4j'];
  if (!isRecord(neo4j)) throw new EndpointsError('neo4j must be an object');
  const uri = nonEmptyString(neo4j['uri'], 'neo4j.uri');
  if (!/^(bolt|neo4j)(\+s|\+ssc)?:\/\//.test(uri)) throw new EndpointsError('neo4j.uri must be a bolt:// or neo4j:// URI');
  const user = nonEmptyString(neo4j['user'], 'neo4j.user');
  if (typeof neo4j['password'] !== 'string') throw new EndpointsError('neo4j.password must be a string');
  return { mode, kafka: { brokers }, postgres: { url }, neo4j: { uri, user, password: neo4j['password'] } };
}

/** Reads and validates endpoints.json; throws with a hint to run `npm run infra:up` when absent. */
export function loadEndpoints(file: string = endpointsFile()): InfraEndpoints {
  if (!existsSync(file)) {
    throw new EndpointsError(`${file} not found: run \`npm run infra:up\` first`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new EndpointsError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseEndpoints(raw);
}

export function writeEndpoints(endpoints: InfraEndpoints, file: string = endpointsFile()): void {
  mkdirSync(dirname(file), { recursive: true });
  // Write then rename so readers never see a half-written file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(endpoints, null, 2)}\n`);
  renameSync(tmp, file);
}

/** The environment variables every Baton process reads its infrastructure from. */
export function endpointsToEnv(endpoints: InfraEndpoints): Record<string, string> {
  return {
    KAFKA_BROKERS: endpoints.kafka.brokers.join(','),
    DATABASE_URL: endpoints.postgres.url,
    NEO4J_URI: endpoints.neo4j.uri,
    NEO4J_USER: endpoints.neo4j.user,
    NEO4J_PASSWORD: endpoints.neo4j.password,
  };
}

export const ENDPOINT_ENV_KEYS = ['KAFKA_BROKERS', 'DATABASE_URL', 'NEO4J_URI'] as const;

/**
 * Endpoints from KAFKA_BROKERS / DATABASE_URL / NEO4J_URI when all three are set,
 * undefined when none is; a partial set is an error because silently mixing the
 * user's servers with provisioned ones hides misconfiguration.
 */
export function endpointsFromEnv(env: NodeJS.ProcessEnv = process.env): InfraEndpoints | undefined {
  const present = ENDPOINT_ENV_KEYS.filter((k) => (env[k] ?? '').trim() !== '');
  if (present.length === 0) return undefined;
  if (present.length < ENDPOINT_ENV_KEYS.length) {
    const missing = ENDPOINT_ENV_KEYS.filter((k) => !present.includes(k));
    throw new EndpointsError(`${present.join(', ')} set but ${missing.join(', ')} not: set all of ${ENDPOINT_ENV_KEYS.join(', ')} or none`);
  }
  return parseEndpoints({
    mode: 'env',
    kafka: {
      brokers: (env['KAFKA_BROKERS'] ?? '')
        .split(',')
        .map((b) => b.trim())
        .filter((b) => b !== ''),
    },
    postgres: { url: env['DATABASE_URL'] },
    neo4j: { uri: env['NEO4J_URI'], user: env['NEO4J_USER'] || 'neo4j', password: env['NEO4J_PASSWORD'] ?? '' },
  });
}
