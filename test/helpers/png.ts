import fs from 'node:fs';

/** What a PNG file says about itself: enough to tell a real screenshot from an empty or broken file. */
export interface PngInfo {
  bytes: number;
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Reads the signature and the IHDR chunk (which must come first); throws if the file is not a PNG. */
export function readPngInfo(file: string): PngInfo {
  const data = fs.readFileSync(file);
  if (data.length < 33 || !data.subarray(0, 8).equals(SIGNATURE)) throw new Error(`${file} is not a PNG (no PNG signature)`);
  const length = data.readUInt32BE(8);
  const type = data.toString('latin1', 12, 16);
  if (type !== 'IHDR' || length !== 13) throw new Error(`${file}: the first chunk is ${type} (${length} bytes), not a 13-byte IHDR`);
  return { bytes: data.length, width: data.readUInt32BE(16), height: data.readUInt32BE(20), bitDepth: data[24], colourType: data[25] };
}
