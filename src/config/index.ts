/**
 * Connection config from broker and store URLs, a JSON config file and environment variables,
 * importable as `proxystream/config`.
 * @module proxystream/config
 */
export { loadConfig, type ConfigInputs, type ConnectionConfig } from './load.js';
export { openBroker, openStores } from './open.js';
export { ConfigEnv, configFileSchema, DEFAULT_CONNECT_TIMEOUT_MS, type ConfigFile } from './schema.js';
export { BROKER_URL_FORMS, parseBrokerUrl, parseStoreUrl, STORE_URL_FORMS, type BrokerSpec, type StoreSpec } from './urls.js';
