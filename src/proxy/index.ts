export { Ref, type RefJSON, type ResolveOptions } from './ref.js';
export { StoreRegistry } from './store-registry.js';
