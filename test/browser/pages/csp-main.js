// Loaded by csp-strict.html and csp-wasm.html (an inline script would itself be blocked by their policies).
import * as otr from '/dist/otr.browser.js';
import { runPublicKat } from '/test/consumers/kat.js';

await runPublicKat(otr, document.title);
