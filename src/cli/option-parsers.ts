/** Parsers for numeric options, and exit statuses shared by the commands. */
import { InvalidArgumentError } from 'commander';

/** Exit status when a check the user asked for fails (detect --max-synthetic-ratio, audit holds, compare --fail-on-collapse). */
export const EXIT_CHECK_FAILED = 3;

export function positiveInt(name: string) {
  return integerAtLeast(name, 1, `${name} must be a positive integer`);
}

export function integerAtLeast(name: string, min: number, message = `${name} must be an integer ≥ ${min}`) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(message);
    return n;
  };
}

export function numberAtLeast(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!(Number.isFinite(n) && n >= min)) throw new InvalidArgumentError(`${name} must be a number ≥ ${min}`);
    return n;
  };
}

/** A number strictly between lo and hi (rates, fractions), or with `closed`, lo and hi allowed too. */
export function numberBetween(name: string, lo: number, hi: number, { closed = false } = {}) {
  return (v: string): number => {
    const n = Number(v);
    const inside = closed ? n >= lo && n <= hi : n > lo && n < hi;
    if (!(Number.isFinite(n) && inside))
      throw new InvalidArgumentError(
        `${name} must be a number in ${closed ? '[' : '('}${lo}, ${hi}${closed ? ']' : ')'}`,
      );
    return n;
  };
}

export function finiteNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
}
