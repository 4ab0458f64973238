import { InvalidArgumentError } from 'commander';

/** commander argument parsers for the options of `fai`: each names the flag it refuses. */
export const positive = (flag: string) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${flag} must be a whole number ≥ 1`);
  return Number(value);
};

export const port = (flag: string) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new InvalidArgumentError(`${flag} must be a port number 0–65535`);
  return Number(value);
};

export const integer = (flag: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be a whole number`);
  return Number(value);
};

export const between = (flag: string, min: number, max: number) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`${flag} must be a whole number from ${min} to ${max}`);
  return Number(value);
};
