import type { SeededRandom } from '../random';

/** VINs that pass the North American check digit, so clients that validate them accept ours. */

const TRANSLITERATION: Record<string, number> = {
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8, J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9, S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9,
};
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
/** Position 10: 2021 = M, 2022 = N, 2023 = P, 2024 = R, 2025 = S (I, O, Q, U, Z, 0 are never used). */
const YEAR_CODES: Record<number, string> = { 2020: 'L', 2021: 'M', 2022: 'N', 2023: 'P', 2024: 'R', 2025: 'S', 2026: 'T' };

export function vinCheckDigit(vin: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const c = vin[i];
    const value = /\d/.test(c) ? Number(c) : (TRANSLITERATION[c] ?? 0);
    sum += value * WEIGHTS[i];
  }
  const r = sum % 11;
  return r === 10 ? 'X' : String(r);
}

export function isPlausibleVin(vin: string): boolean {
  return /^[A-HJ-NPR-Z0-9]{17}$/.test(vin) && vin[8] === vinCheckDigit(vin);
}

/**
 * `prefix` is the 8 characters of manufacturer and descriptor (e.g. `1FTFW1E5`),
 * `plant` the assembly plant letter; the serial comes from the seeded generator.
 */
export function makeVin(random: SeededRandom, prefix: string, modelYear: number, plant: string): string {
  const year = YEAR_CODES[modelYear];
  if (!/^[A-HJ-NPR-Z0-9]{8}$/.test(prefix) || !year || !/^[A-HJ-NPR-Z]$/.test(plant)) throw new RangeError('bad VIN parts');
  const serial = String(random.int(0, 999_999)).padStart(6, '0');
  const draft = `${prefix}0${year}${plant}${serial}`;
  return `${draft.slice(0, 8)}${vinCheckDigit(draft)}${draft.slice(9)}`;
}
