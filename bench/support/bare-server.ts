import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The throughput baseline: a node:http server in a process of its own that
 * answers every request with one fixed JSON body (the simulator's own answer,
 * sent over IPC), so the figure is this machine's HTTP ceiling.
 */
process.once('message', (message: { body: string }) => {
  const body = Buffer.from(message.body);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('disconnect', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
});
