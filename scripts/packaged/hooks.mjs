// --import for the packaged-layout probe: `electron` (which main.js imports and a packaged app
// never ships) resolves to the named fake beside this file. Nothing else is redirected.
import { registerHooks } from 'node:module';

const fake = new URL('./fake-electron.mjs', import.meta.url).href;
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'electron') return { url: fake, format: 'module', shortCircuit: true };
    return nextResolve(specifier, context);
  },
});
