export * from './errors.js';
export * from './schemas.js';
export * from './map.js';
export * from './client.js';
export * from './traffic-rule.js';
