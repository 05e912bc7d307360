/** `value` (decoded event or payload data) as tagged JSON: bytes as { $bytes: hex }, non-finite numbers as { $number }. */
export declare function toTagged(value: unknown): unknown;
/** Tagged JSON back to the value it stands for (objects keep `__proto__` as an own key). */
export declare function fromTagged(value: unknown): unknown;
