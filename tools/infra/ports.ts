import { createServer } from 'node:net';

export class PortError extends Error {
  override readonly name = 'PortError';
}

/** Parses a BATON_*_PORT value; undefined when unset, an error naming the variable when invalid. */
export function parsePort(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const port = Number(raw.trim());
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new PortError(`${name}=${raw} is not a TCP port (1-65535)`);
  }
  return port;
}

/** True when nothing listens on 127.0.0.1:port (we only ever bind loopback). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolveFree(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolveFree(true));
    });
  });
}

/** A port the kernel just handed out on 127.0.0.1; free now, not reserved. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new PortError('could not read the address of a probe socket'));
        return;
      }
      const { port } = address;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * The port for one component: the configured one (must be free, else fail fast naming
 * the component), else the one used last time if still free (stable endpoints across
 * restarts), else a fresh free port. `avoid` keeps two picks of one run apart.
 */
export async function choosePort(
  component: string,
  envName: string,
  configured: number | undefined,
  previous: number | undefined,
  avoid: ReadonlySet<number> = new Set(),
): Promise<number> {
  if (configured !== undefined) {
    if (avoid.has(configured) || !(await isPortFree(configured))) {
      throw new PortError(`${component}: port ${configured} (${envName}) is already in use`);
    }
    return configured;
  }
  if (previous !== undefined && !avoid.has(previous) && (await isPortFree(previous))) return previous;
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort();
    if (!avoid.has(port)) return port;
  }
  throw new PortError(`${component}: could not find a free port`);
}
