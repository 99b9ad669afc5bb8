import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { composeDown, composeEndpoints, composeRunningServices, composeUp, dockerAvailable } from './docker';
import { endpointsFile, endpointsFromEnv, loadEndpoints, stateDir, writeEndpoints, type InfraEndpoints, type InfraMode } from './endpoints';
import { checkComponent, COMPONENTS, isHealthy, waitHealthy, warmUpKafka, type Component } from './health';
import { findJdk, type Jdk } from './jvm';
import { afterUp, readLeases, release, writeLeases } from './leases';
import { findKafkaPid, kafkaPaths, prepareKafka, startKafka } from './kafka';
import { nativeLayout, readRunRecord, writeRunRecord, type NativeLayout, type RunRecord } from './native-context';
import { findNeo4jPid, NEO4J_USER, neo4jPagecacheMb, neo4jPassword, neo4jPaths, prepareNeo4j, startNeo4j } from './neo4j';
import { choosePort, parsePort } from './ports';
import { ensureBatonDatabase, findPostgresPid, postgresPaths, postgresUrl, preparePostgres, startPostgres, stopPostgres } from './postgres';
import { isAlive, stopProcess, tailFile, withLock } from './processes';

export type Logger = (msg: string) => void;

export interface UpResult {
  endpoints: InfraEndpoints;
  /** Components this invocation started (empty when everything was already up). */
  started: Component[];
}

const HEALTH_TIMEOUT_MS: Record<Component, number> = { kafka: 120_000, postgres: 60_000, neo4j: 180_000 };
const STOP_TIMEOUT_MS = 30_000;
const LOCK_TIMEOUT_MS = 10 * 60_000;

const PORT_ENV: Record<Component, string> = {
  kafka: 'BATON_KAFKA_PORT',
  postgres: 'BATON_POSTGRES_PORT',
  neo4j: 'BATON_NEO4J_PORT',
};

export function logFiles(layout: NativeLayout, component: Component): string[] {
  switch (component) {
    case 'kafka':
      return [kafkaPaths(layout).log, kafkaPaths(layout).stdoutLog];
    case 'postgres':
      return [postgresPaths(layout).log];
    case 'neo4j':
      return [neo4jPaths(layout).log, join(neo4jPaths(layout).home, 'logs', 'debug.log')];
  }
}

export function findPid(layout: NativeLayout, component: Component): number | undefined {
  switch (component) {
    case 'kafka':
      return findKafkaPid(layout);
    case 'postgres':
      return findPostgresPid(layout);
    case 'neo4j':
      return findNeo4jPid(layout);
  }
}

/** Component name, log path and its last lines: what a failed start must tell. */
export function describeFailure(layout: NativeLayout, component: Component, err: unknown): string {
  const parts = [`${component} failed: ${(err as Error).message ?? String(err)}`];
  for (const file of logFiles(layout, component)) {
    if (!existsSync(file)) continue;
    parts.push(`--- last lines of ${file}`, tailFile(file, 15));
  }
  return parts.join('\n');
}

function nativeEndpoints(ports: Record<Component, number>, password: string): InfraEndpoints {
  return {
    mode: 'native',
    kafka: { brokers: [`127.0.0.1:${ports.kafka}`] },
    postgres: { url: postgresUrl(ports.postgres) },
    neo4j: { uri: `bolt://127.0.0.1:${ports.neo4j}`, user: NEO4J_USER, password },
  };
}

/** BATON_INFRA=native|docker|env forces a path; otherwise env, then Docker, then native. */
export function resolveMode(env: NodeJS.ProcessEnv = process.env, log?: Logger): InfraMode {
  const forced = env['BATON_INFRA'];
  if (forced === 'native' || forced === 'docker' || forced === 'env') return forced;
  if (forced !== undefined && forced !== '') throw new Error(`BATON_INFRA=${forced}: expected native, docker or env`);
  if (endpointsFromEnv(env) !== undefined) return 'env';
  return dockerAvailable(log) ? 'docker' : 'native';
}

async function checkAll(endpoints: InfraEndpoints, timeoutMs: number): Promise<void> {
  const failures: string[] = [];
  await Promise.all(
    COMPONENTS.map(async (c) => {
      try {
        await waitHealthy(c, () => checkComponent(c, endpoints), timeoutMs);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }),
  );
  if (failures.length > 0) throw new Error(failures.join('\n'));
}

export interface UpOptions {
  fsync?: boolean;
  /** A test run's pid: registers it as a user of the native stack (see leases.ts). */
  lease?: number;
}

export async function up(log: Logger, opts: UpOptions = {}): Promise<UpResult> {
  const mode = resolveMode(process.env, log);
  if (mode === 'env') {
    const endpoints = endpointsFromEnv();
    if (endpoints === undefined) throw new Error('BATON_INFRA=env but KAFKA_BROKERS, DATABASE_URL and NEO4J_URI are not set');
    log('infra: using KAFKA_BROKERS / DATABASE_URL / NEO4J_URI from the environment');
    await checkAll(endpoints, 30_000);
    writeEndpoints(endpoints);
    return { endpoints, started: [] };
  }
  if (mode === 'docker') {
    const before = new Set(composeRunningServices());
    log('infra: Docker engine found, docker compose up -d --wait');
    composeUp();
    const endpoints = composeEndpoints();
    await checkAll(endpoints, 60_000);
    writeEndpoints(endpoints);
    return { endpoints, started: COMPONENTS.filter((c) => !before.has(c)) };
  }
  const layout = nativeLayout(stateDir());
  return withLock(join(layout.root, 'infra.lock'), LOCK_TIMEOUT_MS, async () => {
    const result = await nativeUp(layout, log, opts.fsync ?? true);
    writeLeases(layout, afterUp(readLeases(layout), opts.lease, result.started));
    return result;
  });
}

interface Plan {
  component: Component;
  running: boolean;
  pid: number | undefined;
  port: number;
  controllerPort?: number;
}

async function planPorts(layout: NativeLayout): Promise<Plan[]> {
  const taken = new Set<number>();
  const plans: Plan[] = [];
  // Running components first, so fresh picks avoid their ports.
  const records = new Map<Component, RunRecord | undefined>();
  for (const c of COMPONENTS) {
    const record = readRunRecord(layout, c);
    records.set(c, record);
    const pid = findPid(layout, c);
    const configured = parsePort(PORT_ENV[c], process.env[PORT_ENV[c]]);
    if (pid !== undefined && record !== undefined) {
      if (configured !== undefined && configured !== record.port) {
        throw new Error(`${c}: already running on port ${record.port} but ${PORT_ENV[c]}=${configured}; run \`npm run infra:down\` first`);
      }
      taken.add(record.port);
      if (record.controllerPort !== undefined) taken.add(record.controllerPort);
      plans.push({ component: c, running: true, pid, port: record.port, controllerPort: record.controllerPort });
    } else if (pid !== undefined) {
      // Running but we lost its ports: restart it so endpoints are known again.
      throw new Error(`${c}: a server (pid ${pid}) runs on this state folder without a run record; run \`npm run infra:down\` first`);
    }
  }
  for (const c of COMPONENTS) {
    if (plans.some((p) => p.component === c)) continue;
    const record = records.get(c);
    const configured = parsePort(PORT_ENV[c], process.env[PORT_ENV[c]]);
    const port = await choosePort(c, PORT_ENV[c], configured, record?.port, taken);
    taken.add(port);
    const plan: Plan = { component: c, running: false, pid: undefined, port };
    if (c === 'kafka') {
      const controllerConfigured = parsePort('BATON_KAFKA_CONTROLLER_PORT', process.env['BATON_KAFKA_CONTROLLER_PORT']);
      plan.controllerPort = await choosePort(
        'kafka controller',
        'BATON_KAFKA_CONTROLLER_PORT',
        controllerConfigured,
        record?.controllerPort,
        taken,
      );
      taken.add(plan.controllerPort);
    }
    plans.push(plan);
  }
  return plans;
}

async function nativeUp(layout: NativeLayout, log: Logger, fsync: boolean): Promise<UpResult> {
  const password = neo4jPassword();
  const pagecacheMb = neo4jPagecacheMb();
  const plans = await planPorts(layout);
  const toStart = plans.filter((p) => !p.running);
  const needsJvm = toStart.some((p) => p.component !== 'postgres');
  // Fail fast on a missing JDK/PostgreSQL before anything is started.
  const jdk: Jdk | undefined = needsJvm ? findJdk() : undefined;
  if (jdk !== undefined && jdk.version > 21) {
    log(`infra: ${jdk.java} is Java ${jdk.version}; Neo4j 5.26 supports Java 17 and 21 (set JAVA_HOME to one if Neo4j fails)`);
  }
  const pgRuntime = toStart.some((p) => p.component === 'postgres') ? preparePostgres(layout, log) : undefined;
  for (const p of plans.filter((x) => x.running)) log(`${p.component}: already running (pid ${p.pid}, port ${p.port})`);

  const started: Component[] = [];
  const ports = Object.fromEntries(plans.map((p) => [p.component, p.port])) as Record<Component, number>;
  const endpoints = nativeEndpoints(ports, password);
  const pids = new Map<Component, number>(plans.filter((p) => p.pid !== undefined).map((p) => [p.component, p.pid as number]));

  const startOne = async (plan: Plan): Promise<void> => {
    const c = plan.component;
    let pid: number;
    if (c === 'kafka' && jdk !== undefined) {
      if (prepareKafka(layout, jdk).downloaded) log('kafka: fetched broker jars from Maven Central');
      pid = startKafka(layout, jdk, plan.port, plan.controllerPort as number);
    } else if (c === 'neo4j' && jdk !== undefined) {
      if (prepareNeo4j(layout, jdk).downloaded) log('neo4j: fetched Neo4j jars from Maven Central');
      pid = startNeo4j(layout, jdk, plan.port, password, pagecacheMb);
    } else if (c === 'postgres' && pgRuntime !== undefined) {
      pid = startPostgres(layout, pgRuntime, plan.port, fsync);
    } else {
      throw new Error(`${c}: nothing to start it with`);
    }
    pids.set(c, pid);
    started.push(c);
    writeRunRecord(layout, c, { pid, port: plan.port, controllerPort: plan.controllerPort, startedAt: new Date().toISOString() });
    log(`${c}: started (pid ${pid}, port ${plan.port}), waiting until healthy`);
  };

  const failures: string[] = [];
  await Promise.all(
    plans.map(async (plan) => {
      const c = plan.component;
      try {
        if (!plan.running) await startOne(plan);
        const pid = pids.get(c);
        const alive = (): boolean => (pid === undefined ? true : isAlive(pid));
        const timeoutMs = plan.running ? 30_000 : HEALTH_TIMEOUT_MS[c];
        // The service role is created through the superuser before the role's own check.
        if (c === 'postgres') await waitHealthy(c, () => ensureBatonDatabase(layout, plan.port), timeoutMs, alive);
        await waitHealthy(c, () => checkComponent(c, endpoints), timeoutMs, alive);
        if (c === 'kafka' && !plan.running) await warmUpKafka(endpoints.kafka.brokers);
        log(`${c}: healthy`);
      } catch (err) {
        failures.push(describeFailure(layout, c, err));
      }
    }),
  );
  if (failures.length > 0) {
    // Leave no half-started stack behind: stop what this invocation started.
    for (const c of started) await stopComponent(layout, c, log).catch(() => undefined);
    throw new Error(failures.join('\n\n'));
  }
  writeEndpoints(endpoints);
  return { endpoints, started };
}

async function stopComponent(layout: NativeLayout, component: Component, log: Logger): Promise<void> {
  // Run records stay behind on purpose: the next `up` reuses the same ports when free.
  const pid = findPid(layout, component);
  if (pid === undefined) return;
  const how = component === 'postgres' ? await stopPostgres(layout, pid) : await stopProcess(pid, STOP_TIMEOUT_MS);
  const again = findPid(layout, component);
  if (again !== undefined) throw new Error(`${component}: still running (pid ${again}) after stop`);
  log(`${component}: ${how} (pid ${pid})`);
}

export interface DownOptions {
  only?: readonly Component[];
  /** A test run's pid: drop its lease and stop what test runs started once no run is left. */
  release?: number;
}

export async function down(log: Logger, opts: DownOptions = {}): Promise<void> {
  const layout = nativeLayout(stateDir());
  let mode: InfraMode | undefined;
  try {
    mode = loadEndpoints().mode;
  } catch {
    mode = undefined;
  }
  if (opts.release === undefined && mode === 'docker' && dockerAvailable()) {
    log(`infra: docker compose ${opts.only === undefined ? 'down' : 'stop'}`);
    composeDown(opts.only);
  }
  await withLock(join(layout.root, 'infra.lock'), LOCK_TIMEOUT_MS, async () => {
    let targets: readonly Component[] = opts.only ?? COMPONENTS;
    const leases = readLeases(layout);
    if (opts.release !== undefined) {
      const { next, stop, others } = release(leases, opts.release);
      writeLeases(layout, next);
      if (others.length > 0) log(`infra: still used by test run(s) ${others.join(', ')}; leaving it running`);
      targets = stop.filter((c) => opts.only === undefined || opts.only.includes(c));
    } else {
      writeLeases(layout, { holders: leases.holders, started: leases.started.filter((c) => !targets.includes(c)) });
    }
    const errors: string[] = [];
    await Promise.all(
      targets.map((c) =>
        stopComponent(layout, c, log).catch((err: unknown) => {
          errors.push((err as Error).message);
        }),
      ),
    );
    if (errors.length > 0) throw new Error(errors.join('\n'));
    const anyLeft = COMPONENTS.some((c) => findPid(layout, c) !== undefined);
    if (!anyLeft || (opts.release === undefined && (mode === 'docker' || mode === 'env'))) rmSync(endpointsFile(), { force: true });
  });
}

export interface ComponentStatus {
  component: Component;
  pid: number | undefined;
  port: number | undefined;
  healthy: boolean;
  log: string | undefined;
}

export interface StatusReport {
  mode: InfraMode | 'none';
  endpoints: InfraEndpoints | undefined;
  components: ComponentStatus[];
}

export async function status(): Promise<StatusReport> {
  let endpoints: InfraEndpoints | undefined;
  try {
    endpoints = loadEndpoints();
  } catch {
    endpoints = undefined;
  }
  const layout = nativeLayout(stateDir());
  const components = await Promise.all(
    COMPONENTS.map(async (c): Promise<ComponentStatus> => {
      const native = endpoints === undefined || endpoints.mode === 'native';
      const pid = native ? findPid(layout, c) : undefined;
      const port = native ? readRunRecord(layout, c)?.port : portOf(endpoints, c);
      const healthy = endpoints !== undefined && (!native || pid !== undefined) && (await isHealthy(() => checkComponent(c, endpoints)));
      return { component: c, pid, port, healthy, log: native ? logFiles(layout, c)[0] : undefined };
    }),
  );
  return { mode: endpoints?.mode ?? 'none', endpoints, components };
}

function portOf(endpoints: InfraEndpoints | undefined, c: Component): number | undefined {
  if (endpoints === undefined) return undefined;
  const address = c === 'kafka' ? endpoints.kafka.brokers[0] : c === 'postgres' ? endpoints.postgres.url : endpoints.neo4j.uri;
  const match = /:(\d+)(\/|$)/.exec((address ?? '').replace(/^[a-z+]+:\/\/[^@]*@/, '').replace(/^[a-z+]+:\/\//, ''));
  return match ? Number(match[1]) : undefined;
}
