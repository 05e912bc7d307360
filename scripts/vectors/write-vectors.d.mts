/** Where the TypeScript-written vectors live: test/vectors/ts-vectors.json. */
export declare const TS_VECTORS_PATH: string;
/** What a reader must decode from an event, as tagged JSON. */
export declare function eventExpectation(event: import('../../src/wire/index.js').StreamEvent): unknown;
/** Every TypeScript-written vector, as written to {@link TS_VECTORS_PATH}. */
export declare function buildVectors(): unknown;
