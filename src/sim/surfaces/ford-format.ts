import { deflateSync } from 'node:zlib';

/** Small wire-format helpers shared by the surfaces: Ford's timestamps and a generated PNG. */

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Ford's older spelling, `MM-DD-YYYY HH:mm:ss`, in UTC (the simulated clock's zone). */
export function fordTimestamp(ms: number): string {
  const d = new Date(Math.floor(ms));
  return `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCFullYear(), 4)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function isoTimestamp(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid RGB PNG: the body colour on top, a dark band for the wheels below. */
export function vehiclePng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    const colour = y >= Math.floor((height * 3) / 4) ? [40, 40, 40] : rgb;
    for (let x = 0; x < width; x++) row.set(colour, 1 + x * 3);
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A rough RGB for a paint name, so each vehicle's picture differs. */
export function paintRgb(color: string): [number, number, number] {
  const c = color.toLowerCase();
  if (c.includes('white')) return [235, 235, 230];
  if (c.includes('red')) return [170, 20, 30];
  if (c.includes('antimatter')) return [30, 45, 80];
  if (c.includes('blue')) return [20, 90, 180];
  if (c.includes('black')) return [20, 20, 20];
  if (c.includes('silver') || c.includes('grey') || c.includes('gray')) return [160, 165, 170];
  return [120, 120, 120];
}
