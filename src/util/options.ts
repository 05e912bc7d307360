import * as v from 'valibot';
import { ConfigError } from '../errors/index.js';

/** Parses options with a valibot schema; failures become one {@link ConfigError} that names every bad field. */
export function parseOptions<S extends v.GenericSchema>(schema: S, input: unknown, what: string): v.InferOutput<S> {
  if (Array.isArray(input)) throw new ConfigError(`invalid ${what} options: (options): expected an object, received an array`);
  const result = v.safeParse(schema, input ?? {});
  if (result.success) return result.output;
  const problems = result.issues.map((issue) => `${v.getDotPath(issue) || '(options)'}: ${issue.message}`);
  throw new ConfigError(`invalid ${what} options: ${problems.join('; ')}`, { cause: result.issues });
}

/** Schema for a non-empty string. */
export const nonEmptyString = v.pipe(v.string(), v.minLength(1));

/** Schema for an id or name: non-empty, at most 256 characters. */
export const nameSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(256));

/** Schema for a finite number ≥ 0 (NaN and ±Infinity are rejected). */
export const nonNegativeNumber = v.pipe(v.number(), v.finite(), v.minValue(0));

/** Schema for a finite number > 0 (NaN and ±Infinity are rejected). */
export const positiveNumber = v.pipe(v.number(), v.finite(), v.gtValue(0));

/** Schema for a safe integer ≥ `min` (and ≤ `max` when given). */
export function integer(min: number, max?: number) {
  const schema = v.pipe(v.number(), v.safeInteger(), v.minValue(min));
  return max === undefined ? schema : v.pipe(schema, v.maxValue(max));
}

/** Schema for a function option; `message` is the error when the value is not a function. */
export function functionSchema<F>(message = 'expected a function') {
  return v.custom<F>((value) => typeof value === 'function', message);
}

/** `v.strictObject` whose error for an unknown key reads `<path to the key>: Unrecognized key`. */
export function strictObject<E extends v.ObjectEntries>(entries: E) {
  return v.strictObject(entries, (issue) => (issue.expected === 'never' ? 'Unrecognized key' : issue.message));
}

/** Schema for an AbortSignal option. */
export const signalSchema = v.custom<AbortSignal>((value) => value instanceof AbortSignal, 'expected an AbortSignal');

/** Entry schemas that may be left out of the input (valibot's `optional`, `exactOptional`, `nullish`). */
type Omittable = { readonly type: 'optional' | 'exact_optional' | 'nullish'; readonly default: unknown };
type OptionalInputKeys<E> = { [K in keyof E]: E[K] extends Omittable ? K : never }[keyof E];
type OptionalOutputKeys<E> = { [K in keyof E]: E[K] extends Omittable ? (undefined extends E[K]['default'] ? K : never) : never }[keyof E];
type MarkOptional<T, K extends keyof T> = { [P in keyof (Partial<Pick<T, K>> & Omit<T, K>)]: (Partial<Pick<T, K>> & Omit<T, K>)[P] };
type ObjectLike = { readonly entries: v.ObjectEntries };

/**
 * `v.InferInput` of an object schema, with each property declared once: valibot's own type declares every
 * property twice, and the API reference then cannot tell which doc comment to show.
 */
export type OptionsInput<S extends ObjectLike> = MarkOptional<{ [K in keyof S['entries']]: v.InferInput<S['entries'][K]> }, OptionalInputKeys<S['entries']>>;

/** `v.InferOutput` of an object schema, with each property declared once (see {@link OptionsInput}). */
export type OptionsOutput<S extends ObjectLike> = MarkOptional<{ [K in keyof S['entries']]: v.InferOutput<S['entries'][K]> }, OptionalOutputKeys<S['entries']>>;
