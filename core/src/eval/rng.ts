// The seeded random source lives in platform/ (the runtime's doctor uses it too).
export { mulberry32, type Rng } from '../platform/rng.js';
