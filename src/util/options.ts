import { z } from 'zod';
import { ConfigError } from '../errors/index.js';

/** Parses options with a zod schema; failures become one {@link ConfigError} that names every bad field. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`);
  throw new ConfigError(`invalid ${what} options: ${problems.join('; ')}`, { cause: result.error });
}

/** Schema for an id or name: non-empty, at most 256 characters. */
export const nameSchema = z.string().min(1).max(256);

/** Schema for an AbortSignal option. */
export const signalSchema = z.custom<AbortSignal>((value) => value instanceof AbortSignal, 'expected an AbortSignal');
