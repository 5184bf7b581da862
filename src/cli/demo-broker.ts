import net from 'node:net';

/**
 * An MQTT broker for the Home Assistant example, so `npm start` shows it
 * working with nothing else installed. It uses the `aedes` package when this
 * checkout has it (a devDependency); an owner's Home Assistant uses Mosquitto.
 */
export interface DemoBroker {
  port: number;
  close(): Promise<void>;
}

interface AedesLike {
  handle: (socket: net.Socket) => void;
  close(cb: () => void): void;
}

export async function startDemoBroker(port: number, host = '127.0.0.1'): Promise<DemoBroker | { skipped: string }> {
  let createBroker: () => Promise<AedesLike>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional: only a checkout with devDependencies has it
    const aedes = require('aedes') as { Aedes: { createBroker(): Promise<AedesLike> } };
    createBroker = () => aedes.Aedes.createBroker();
  } catch {
    return { skipped: 'the aedes package is not installed (npm install in this checkout brings it)' };
  }
  const broker = await createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    const e = err as NodeJS.ErrnoException;
    return { skipped: e.code === 'EADDRINUSE' ? `port ${port} is in use (a broker already running there is used instead)` : e.message };
  }
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        // Clients (Node-RED's mqtt nodes) would keep the server open: end them too.
        for (const socket of sockets) socket.destroy();
        server.close(() => broker.close(() => resolve()));
      }),
  };
}
