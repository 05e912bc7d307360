export { MetricsServer, type MetricsServerOptions } from './http-server.js';
export { MetricNames, type MetricName } from './names.js';
export { DispatchMetrics, type MetricsSource } from './registry.js';
