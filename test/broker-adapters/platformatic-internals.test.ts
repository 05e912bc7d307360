import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Base, ConnectionPool, Consumer, offsetCommitV8 } from '@platformatic/kafka';
import { PLATFORMATIC_KAFKA_VERSION } from '../../src/broker-adapters/kafka/lazy-driver.js';

// The platformatic member (src/broker-adapters/kafka/platformatic/) reaches past @platformatic/kafka's
// documented API: it commits through offsetCommitV8 (to send commit metadata), closes a stuck consumer
// through Base.prototype.close, reads coordinatorId, fetches per leader with
// Consumer.fetch and follows the group through the client's diagnostic events. package.json pins the
// client to one exact version for that reason; this test fails loudly when the pin and the install
// drift apart or when any of those internals is gone, so an upgrade is a deliberate step.
const packageDir = new URL('../../node_modules/@platformatic/kafka/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as Record<string, Record<string, string>>;
const installed = (JSON.parse(readFileSync(new URL('package.json', packageDir), 'utf8')) as { version: string }).version;
const memberSource = readFileSync(new URL('../../src/broker-adapters/kafka/platformatic/group-consumer.ts', import.meta.url), 'utf8');
const consumerTypes = readFileSync(new URL('dist/clients/consumer/consumer.d.ts', packageDir), 'utf8');

describe('@platformatic/kafka internals the platformatic member relies on', () => {
  it('is pinned to one exact version, the one installed', () => {
    expect(manifest.peerDependencies!['@platformatic/kafka']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(manifest.devDependencies!['@platformatic/kafka']).toBe(manifest.peerDependencies!['@platformatic/kafka']);
    expect(installed).toBe(manifest.peerDependencies!['@platformatic/kafka']);
    expect(PLATFORMATIC_KAFKA_VERSION, 'the version MissingDependencyError tells users to install').toBe(installed);
  });

  it('still has the functions and accessors it calls', () => {
    expect(typeof offsetCommitV8.api.async).toBe('function');
    expect(typeof Base.prototype.close).toBe('function');
    expect(typeof ConnectionPool.prototype.get).toBe('function');
    for (const method of ['fetch', 'joinGroup', 'metadata', 'listOffsets', 'close'] as const) expect(typeof Consumer.prototype[method], method).toBe('function');
    expect(Object.getOwnPropertyDescriptor(Consumer.prototype, 'coordinatorId')?.get).toBeTypeOf('function');
  });

  it('still declares every consumer event the member listens to', () => {
    const listened = [...memberSource.matchAll(/\.on\('(consumer:[a-z:]+)'/g)].map((match) => match[1]!);
    expect(listened.length).toBeGreaterThan(0);
    for (const event of listened) expect(consumerTypes, event).toContain(`'${event}':`);
  });
});
