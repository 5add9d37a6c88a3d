/**
 * Entry of the in-page test bundle (build/browser/suite.js, loaded by suite.html). It exposes one object on
 * `window` that the Node harness drives through Playwright: `init` (the public one, so the page reports which
 * backend the library itself chose), `cases` (the known-answer suites), `conversation` (protocol layers) and
 * `account` (the public Account/Conversation API).
 */
import { init, getBackend, type InitOptions } from '../../../ts/index.js';
import { runCases, type PageCase, type PageResult } from './ops.js';
import { runConversation, type ConversationTranscript } from './conversation.js';
import { runAccountConversation, type AccountTranscript } from './account.js';

export interface PageInitResult {
  backend: string;
  fallbackReason?: string;
  /** Whether this runtime exposes WebAssembly at all (false under --js-flags=--noexpose_wasm). */
  webAssembly: boolean;
  /** Whether the WASM backend loaded its SIMD module (undefined on the JS backend). */
  simd?: boolean;
}

export interface OtrSuite {
  init(options?: InitOptions): Promise<PageInitResult>;
  cases(cases: PageCase[]): PageResult[];
  conversation(seed: number): ConversationTranscript;
  account(seed: number): AccountTranscript;
}

const suite: OtrSuite = {
  async init(options) {
    const r = await init(options);
    const b = getBackend() as { wasm?: { simd: boolean } };
    return { ...r, webAssembly: typeof WebAssembly === 'object', simd: b.wasm?.simd };
  },
  cases: (cases) => runCases(getBackend(), cases),
  conversation: (seed) => runConversation(getBackend(), seed),
  account: (seed) => runAccountConversation(seed),
};

(globalThis as unknown as { otrSuite: OtrSuite }).otrSuite = suite;
document.documentElement.dataset.ready = 'true';
