/**
 * Every metric proxystream exports, by name. Names carry their unit (`_total`, `_seconds`, `_bytes`,
 * `_events`) as Prometheus conventions ask; the values are stable and dashboards depend on them.
 */
export const MetricNames = {
  /** Counter {topic}: data events read from the broker (before the filter). */
  eventsReceived: 'proxystream_events_received_total',
  /** Counter {topic}: events the pipeline filter dropped (acked without touching the store). */
  eventsFiltered: 'proxystream_events_filtered_total',
  /** Counter {topic,pool}: events handed to a pool. */
  eventsDispatched: 'proxystream_events_dispatched_total',
  /** Counter {topic,pool,outcome}: events acked upstream; outcome `ok` (handled) or `dead_letter`. */
  eventsAcked: 'proxystream_events_acked_total',
  /** Counter {topic}: second deliveries of events already handled, whose payload was released: acked without a handler. */
  eventsDuplicate: 'proxystream_events_duplicate_total',
  /** Counter {topic,pool}: attempts repeated after a failure. */
  eventsRetried: 'proxystream_events_retried_total',
  /** Counter {topic,pool,code}: events written to the dead-letter topic, by error code. */
  eventsDeadLettered: 'proxystream_events_dead_lettered_total',
  /** Counter {pool}: payload bytes handlers resolved from stores. */
  payloadBytesResolved: 'proxystream_payload_bytes_resolved_total',
  /** Counter {topic}: bytes of events read from or published to the broker by the dispatcher. */
  brokerEventBytes: 'proxystream_broker_event_bytes_total',
  /** Histogram: event timestamp (producer clock) to first handler start, in seconds. */
  dispatchLatency: 'proxystream_dispatch_latency_seconds',
  /** Histogram {pool,outcome}: one handler attempt; outcome `ok`, `error` or `timeout`. */
  handlerDuration: 'proxystream_handler_duration_seconds',
  /** Gauge {pool}: items admitted to a pool and not running (queued, batching or waiting to retry). */
  poolQueueDepth: 'proxystream_pool_queue_depth',
  /** Gauge {pool}: handler attempts running now. */
  poolBusyWorkers: 'proxystream_pool_busy_workers',
  /** Gauge {pool}: attempts the pool runs at once (its `concurrency`); busy workers reach it when saturated. */
  poolConcurrency: 'proxystream_pool_concurrency',
  /** Gauge {pool}: items the pool holds (queued, running, retrying) before the dispatcher stops reading for it. */
  poolCapacity: 'proxystream_pool_capacity',
  /** Gauge {topic}: events not yet read by the group, where the broker can tell (optional hook). */
  sourceLag: 'proxystream_source_lag_events',
  /** Gauge {store}: bytes a store holds, read from `store.stats()` at scrape time. */
  storeBytes: 'proxystream_store_bytes',
  /** Gauge {store}: objects a store holds, read from `store.stats()` at scrape time. */
  storeObjects: 'proxystream_store_objects',
  /** Counter {producer}: events a producer published (read from its `stats` at scrape time, as the other producer counters). */
  producerEventsSent: 'proxystream_producer_events_sent_total',
  /** Counter {producer}: values its producer-side filter dropped (nothing stored or published). */
  producerEventsFiltered: 'proxystream_producer_events_filtered_total',
  /** Counter {producer}: events whose payload travelled inside the event. */
  producerEventsInline: 'proxystream_producer_events_inline_total',
  /** Counter {producer}: payloads written to a store (events sent by ref). */
  producerPayloadsStored: 'proxystream_producer_payloads_stored_total',
  /** Counter {producer}: payloads written again because their provisional lease ran out before the publish confirmed. */
  producerPayloadsRewritten: 'proxystream_producer_payloads_rewritten_total',
  /** Counter {producer}: payload bytes written to stores. */
  producerPayloadBytesStored: 'proxystream_producer_payload_bytes_stored_total',
  /** Counter {producer}: payload bytes sent inside events. */
  producerPayloadBytesInline: 'proxystream_producer_payload_bytes_inline_total',
  /** Counter {producer}: bytes of events published to the broker. */
  producerEventBytes: 'proxystream_producer_event_bytes_total',
} as const;

/** One of the metric names in {@link MetricNames}. */
export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];
