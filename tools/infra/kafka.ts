import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from './endpoints';
import { ensureMavenLib, type Jdk } from './jvm';
import { findProcesses, type NativeLayout } from './native-context';
import { runOrThrow, spawnDetached } from './processes';

export const KAFKA_VERSION = '3.9.1';

export interface KafkaPaths {
  home: string;
  data: string;
  properties: string;
  log4j: string;
  clusterIdFile: string;
  lib: string;
  pom: string;
  log: string;
  stdoutLog: string;
}

export function kafkaPaths(layout: NativeLayout): KafkaPaths {
  const home = join(layout.root, 'kafka');
  return {
    home,
    data: join(home, 'data'),
    properties: join(home, 'server.properties'),
    log4j: join(home, 'log4j.properties'),
    clusterIdFile: join(home, 'cluster-id'),
    lib: join(layout.cache, 'kafka-lib'),
    pom: join(REPO_ROOT, 'tools', 'infra', 'kafka', 'pom.xml'),
    log: join(layout.logs, 'kafka.log'),
    stdoutLog: join(layout.logs, 'kafka.stdout.log'),
  };
}

export interface KafkaSettings {
  port: number;
  controllerPort: number;
  dataDir: string;
}

/**
 * Single-node KRaft broker+controller on loopback. A static voter list (not
 * `--standalone`) keeps the controller endpoint out of the stored metadata, so the
 * controller port may change between runs.
 */
export function renderKafkaProperties(s: KafkaSettings): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${s.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${s.port},CONTROLLER://127.0.0.1:${s.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${s.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': s.dataDir,
    'num.partitions': 3,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    // Fewer coordinator partitions: faster first consumer-group join on a fresh broker.
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 10,
    'group.initial.rebalance.delay.ms': 0,
    // Topics are declared by @baton/bus; a typo must not silently create a topic.
    'auto.create.topics.enable': false,
    'delete.topic.enable': true,
    'log.retention.hours': 72,
    'log.segment.bytes': 64 * 1024 * 1024,
    'num.network.threads': 2,
    'num.io.threads': 4,
  };
  const lines = Object.entries(props).map(([k, v]) => `${k}=${escapeProperty(String(v))}`);
  return `# Written by tools/infra on every start; edit tools/infra/kafka.ts instead.\n${lines.join('\n')}\n`;
}

function escapeProperty(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function renderKafkaLog4j(logFile: string): string {
  return [
    'log4j.rootLogger=INFO, file',
    'log4j.appender.file=org.apache.log4j.RollingFileAppender',
    `log4j.appender.file.File=${escapeProperty(logFile)}`,
    'log4j.appender.file.MaxFileSize=20MB',
    'log4j.appender.file.MaxBackupIndex=2',
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.kafka.request.logger=WARN',
    'log4j.logger.state.change.logger=WARN',
    'log4j.logger.kafka.controller=INFO',
    '',
  ].join('\n');
}

/** Kafka's own cluster id format: 16 random bytes, base64url, no padding. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    // A leading '-' would be read as an option by the storage tool.
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

export function kafkaMarker(layout: NativeLayout): string {
  return kafkaPaths(layout).properties;
}

export function findKafkaPid(layout: NativeLayout): number | undefined {
  return findProcesses(kafkaMarker(layout)).find((pid) => pid > 0);
}

/** Fetches jars (first run only) and formats the KRaft storage once. */
export function prepareKafka(layout: NativeLayout, jdk: Jdk): { downloaded: boolean } {
  const p = kafkaPaths(layout);
  const downloaded = ensureMavenLib('kafka', p.pom, p.lib, layout.m2, jdk);
  mkdirSync(p.data, { recursive: true });
  mkdirSync(layout.logs, { recursive: true });
  return { downloaded };
}

export function startKafka(layout: NativeLayout, jdk: Jdk, port: number, controllerPort: number): number {
  const p = kafkaPaths(layout);
  writeFileSync(p.properties, renderKafkaProperties({ port, controllerPort, dataDir: p.data }));
  writeFileSync(p.log4j, renderKafkaLog4j(p.log));
  const classpath = `${p.lib}/*`;
  const log4jOpt = `-Dlog4j.configuration=file:${p.log4j}`;
  if (!existsSync(join(p.data, 'meta.properties'))) {
    if (!existsSync(p.clusterIdFile)) writeFileSync(p.clusterIdFile, `${newClusterId()}\n`);
    const clusterId = readFileSync(p.clusterIdFile, 'utf8').trim();
    runOrThrow('kafka: formatting KRaft storage', jdk.java, [
      '-Xmx256m',
      log4jOpt,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '--ignore-formatted',
      '-t',
      clusterId,
      '-c',
      p.properties,
    ]);
  }
  return spawnDetached({
    command: jdk.java,
    args: [
      '-Xms256m',
      '-Xmx512m',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      `-Dkafka.logs.dir=${layout.logs}`,
      log4jOpt,
      '-cp',
      classpath,
      'kafka.Kafka',
      p.properties,
    ],
    logFile: p.stdoutLog,
    cwd: p.home,
  });
}
