export type { LoadedConfig, LoadOptions } from './load.js';
export { applyEnvOverrides, ConfigError, findConfigFile, formatIssues, loadConfig, parseConfig } from './load.js';
export type { Config, ConfigInput, Limits, ListenerConfig, ListenerProtocol } from './schema.js';
export { configSchema, listenerProtocols } from './schema.js';
