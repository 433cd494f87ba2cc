export type { EventSink, EventType, MailEvent } from './bus.js';
export { EventBus } from './bus.js';
export { logSink, TimelineSink } from './sinks.js';
