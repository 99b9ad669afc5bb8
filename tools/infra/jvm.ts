import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { run, which } from './processes';

export class JdkError extends Error {
  override readonly name = 'JdkError';
}

export interface Jdk {
  java: string;
  javac: string | undefined;
  home: string | undefined;
  version: number;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds java (JAVA_HOME first, then PATH) and checks it is 17+; fails fast naming the JDK. */
export function findJdk(env: NodeJS.ProcessEnv = process.env): Jdk {
  const home = env['JAVA_HOME'];
  let java: string | undefined;
  let javac: string | undefined;
  if (home !== undefined && home !== '') {
    java = join(home, 'bin', 'java');
    if (!executable(java)) {
      throw new JdkError(`JDK not found: JAVA_HOME=${home} has no executable bin/java (install OpenJDK 17+ or fix JAVA_HOME)`);
    }
    const candidate = join(home, 'bin', 'javac');
    javac = executable(candidate) ? candidate : undefined;
  } else {
    java = which('java', env['PATH']);
    if (java === undefined) {
      throw new JdkError(
        'JDK not found: no `java` on PATH and JAVA_HOME is unset (install OpenJDK 17+, e.g. apt-get install openjdk-17-jdk-headless)',
      );
    }
    javac = which('javac', env['PATH']);
  }
  const probe = run(java, ['-version']);
  const match = /version "(\d+)(?:\.(\d+))?/.exec(probe.stderr + probe.stdout);
  if (probe.status !== 0 || match === null) {
    throw new JdkError(`JDK at ${java} does not run: ${(probe.stderr || probe.stdout).trim()}`);
  }
  // Java 8 reports "1.8"; anything that old is rejected below either way.
  const version = match[1] === '1' ? Number(match[2]) : Number(match[1]);
  if (version < 17) throw new JdkError(`JDK at ${java} is Java ${version}; Kafka 3.9 and Neo4j 5.26 need Java 17+`);
  return { java, javac, home: home || undefined, version };
}

export function requireJavac(jdk: Jdk): string {
  if (jdk.javac === undefined) {
    throw new JdkError(`JDK compiler not found beside ${jdk.java}: a full JDK (javac) is needed to build the Neo4j launcher`);
  }
  return jdk.javac;
}

/**
 * Copies the runtime jars of a classpath pom into libDir once. A marker holding the
 * pom's hash makes later runs skip Maven entirely (no network) and re-resolve only
 * when the pom changes.
 */
export function ensureMavenLib(component: string, pomFile: string, libDir: string, m2Repo: string, jdk: Jdk): boolean {
  const pomHash = createHash('sha256').update(readFileSync(pomFile)).digest('hex');
  const marker = join(libDir, '.complete');
  if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === pomHash && readdirSync(libDir).some((f) => f.endsWith('.jar'))) {
    return false;
  }
  const mvn = which('mvn');
  if (mvn === undefined) {
    throw new Error(`${component}: Maven (mvn) is needed once to fetch the jars into ${libDir}; install it (apt-get install maven)`);
  }
  rmSync(libDir, { recursive: true, force: true });
  mkdirSync(libDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (jdk.home !== undefined) env['JAVA_HOME'] = jdk.home;
  const result = run(
    mvn,
    [
      '-q',
      '-B',
      '-f',
      pomFile,
      `-Dmaven.repo.local=${m2Repo}`,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${libDir}`,
    ],
    { env },
  );
  if (result.status !== 0) {
    throw new Error(`${component}: resolving ${pomFile} with Maven failed:\n${(result.stdout + result.stderr).trim().slice(-3000)}`);
  }
  writeFileSync(marker, `${pomHash}\n`);
  return true;
}
