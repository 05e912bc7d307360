import { InvalidArgumentError } from 'commander';

/** Parses a non-negative integer flag value; a bad one is commander's usage error (exit 2). */
export function intFlag(name: string, min = 0): (value: string) => number {
  return (value: string) => {
    const number = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(number) || number < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, not ${JSON.stringify(value)}`);
    return number;
  };
}

/** Parses a byte size such as `1024`, `64k`, `4m`, `1g` (binary multiples). */
export function sizeFlag(name: string): (value: string) => number {
  return (value: string) => {
    const match = /^(\d+)\s*([kmg]i?b?)?$/i.exec(value.trim());
    const unit = match?.[2]?.[0]?.toLowerCase();
    const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
    const number = match === null ? Number.NaN : Number(match[1]) * factor;
    if (!Number.isSafeInteger(number)) throw new InvalidArgumentError(`${name} must be a byte size such as 4096, 64k or 4m, not ${JSON.stringify(value)}`);
    return number;
  };
}

/** Parses `earliest` or `latest`. */
export function fromFlag(value: string): 'earliest' | 'latest' {
  if (value !== 'earliest' && value !== 'latest') throw new InvalidArgumentError(`--from must be earliest or latest, not ${JSON.stringify(value)}`);
  return value;
}
