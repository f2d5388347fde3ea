// dynalite on a thread of its own (see startDynamo's `thread` option): its LevelDB work must not
// share the API's event loop. Plain JavaScript: the thread needs no TypeScript loader.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const dynalite = createRequire(import.meta.url)('dynalite');
const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

server.once('error', (error) =>
  parentPort.postMessage({ type: 'error', code: error.code, message: error.message }),
);
server.listen(workerData.port, workerData.host, () => {
  parentPort.postMessage({ type: 'listening', port: server.address().port });
});

parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  // Idle keep-alive sockets are dropped by close(); busy ones get a grace period.
  const force = setTimeout(() => server.closeAllConnections(), 2_000);
  // dynalite's close() also closes LevelDB, releasing the folder lock for the next start.
  server.close(() => {
    clearTimeout(force);
    parentPort.postMessage({ type: 'stopped' });
  });
});
