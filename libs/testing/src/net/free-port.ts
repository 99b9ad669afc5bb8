import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the kernel's pick; not reserved). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: could not read the probe socket address'));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}
