/** kafkajs errors carry a `type` (protocol error name); this reads it safely. */
export function kafkaErrorType(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'type' in error && typeof error.type === 'string' ? error.type : undefined;
}
