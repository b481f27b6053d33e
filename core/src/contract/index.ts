export * from './errors.js';
export * from './schemas.js';
export * from './map.js';
export * from './replay-schemas.js';
export * from './demo-traffic-schemas.js';
export * from './registration-schemas.js';
export * from './client.js';
export * from './traffic-rule.js';
