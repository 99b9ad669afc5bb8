// A stand-in service for spawnApp's own tests: serves /health/ready, and with
// FIXTURE_CHILD=1 starts a grandchild to prove that stop/kill reach the whole group.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';

const port = Number(process.env['PORT']);
if (process.env['FIXTURE_CHILD'] === '1') {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)'], { stdio: 'ignore' });
  console.log(`grandchild ${child.pid}`);
}
if (process.env['FIXTURE_FAIL'] === '1') {
  console.error('fixture: failing on purpose');
  process.exit(3);
}
const server = createServer((req, res) => {
  res.statusCode = req.url === '/health/ready' ? 200 : 404;
  res.end(JSON.stringify({ pid: process.pid }));
});
server.listen(port, '127.0.0.1', () => console.log(`fixture listening on ${port}`));
process.on('SIGTERM', () => {
  console.log('fixture: SIGTERM, closing');
  server.close(() => process.exit(0));
});
