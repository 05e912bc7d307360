#!/usr/bin/env node
/** The `proxystream` executable; see `proxystream --help` and {@link runCli}. */
import { main } from './program.js';

await main();
