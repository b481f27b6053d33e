// Runs the CLI from this module; bin/switchyard.js loads the compiled copy, tests the source.
import { main } from './main.js';

await main(process.argv);
