/**
 * The WebAssembly byte loop of the summary pass (`record-compact.wat`) and its memory: a block of
 * lines is copied in once, and each line's compact text, tape and chain values are made there
 * (`compactFromTape` does the per-key part). A reference-format record costs about a third of the
 * JavaScript loop's time this way (see the README's replay speed tables).
 *
 * `npm run build` assembles the `.wat` into `record-compact.wasm` beside the compiled module; run
 * from the TypeScript (tests, `tsx`), the `.wat` is assembled on first use with `wabt` (a
 * development dependency). Where neither is there, or the module does not compile, the summary
 * pass keeps the JavaScript loop (`compactRecord`): the same results, slower.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ByteRecord, CLS, compactFromTape, tapeChain } from './record-bytes.js';
import { found } from './byte-chain.js';

const WASM_FILE = fileURLToPath(new URL('./record-compact.wasm', import.meta.url));
const WAT_FILE = fileURLToPath(new URL('./record-compact.wat', import.meta.url));

/**
 * The part of the WebAssembly API used here (the project's TypeScript libraries leave out the DOM,
 * where its types live).
 */
export type CompactModule = object & { readonly __compactModule?: never };
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<CompactModule>;
  Instance: new (m: CompactModule, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let loading: Promise<CompactModule | null> | null = null;

/** The compiled loop (once per process), or null where it cannot be had (see the module comment). */
export function loadRecordCompactModule(): Promise<CompactModule | null> {
  loading ??= (async () => {
    try {
      if (!wasmApi) return null;
      if (existsSync(WASM_FILE)) return await wasmApi.compile(readFileSync(WASM_FILE));
      if (existsSync(WAT_FILE)) return await wasmApi.compile(await assembleWat(readFileSync(WAT_FILE, 'utf8'), 'record-compact.wat'));
    } catch {
      // No assembler, or a module this runtime refuses: the JavaScript loop does the same work.
    }
    return null;
  })();
  return loading;
}

/** The `.wat` text as a binary module (`wabt`, a development dependency; `scripts/build-wasm.mjs` calls this too). */
export async function assembleWat(text: string, name: string): Promise<Uint8Array> {
  const wabtName = 'wabt';
  const init = ((await import(wabtName)) as { default: () => Promise<WabtModule> }).default;
  const wabt = await init();
  const parsed = wabt.parseWat(name, text);
  try {
    parsed.validate();
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

interface WabtModule {
  parseWat(name: string, text: string): { validate(): void; toBinary(o: object): { buffer: Uint8Array }; destroy(): void };
}

interface CompactExports {
  memory: WasmMemory;
  ntape: { value: number };
  compact(s: number, e: number, out: number, tape: number, tapeEnd: number): number;
  place(cmd: number, cmdEnd: number, tmp: number, prev: number, out: number, stored: number, stash: number): number;
}

// Memory layout (bytes): the byte classes at 0, the container stack at 256 (both as the .wat
// says), the stored hash set aside at STASH, the tape, the moves, then the block and the output.
const STASH = 1024;
const TAPE = 4096;
const TAPE_BYTES = 1 << 20; // 65,536 entries: a longer line goes the JavaScript way
// The moves `compactFromTape` writes: 3 ints per object (2 tape entries) and 2 per key (1 entry),
// so at most 8 bytes per 16-byte tape entry.
const CMD = TAPE + TAPE_BYTES;
const CMD_BYTES = TAPE_BYTES / 2;
const IN = CMD + CMD_BYTES;
const PAGE = 65536;
const MAX_MEMORY = 65536 * PAGE - PAGE; // under 4 GiB, the most a 32-bit memory can address

/** One thread's instance: `load` a block, then `compact` its lines. */
export class WasmCompactor {
  private readonly x: CompactExports;
  /** The whole memory (views are made again when it grows). */
  heap!: Uint8Array;
  heap32!: Int32Array;
  /** Where the output region starts (the previous hash, then the text). */
  out = 0;
  private blockEnd = IN;

  /** `maxMemoryBytes`: how far the memory may grow (default: under 4 GiB, all a 32-bit module addresses). */
  constructor(
    module: CompactModule,
    private readonly maxMemoryBytes = MAX_MEMORY,
  ) {
    this.x = new wasmApi!.Instance(module, {}).exports as CompactExports;
    this.views();
    this.heap.set(CLS, 0);
  }

  private views(): void {
    const buf = this.x.memory.buffer;
    this.heap = new Uint8Array(buf);
    this.heap32 = new Int32Array(buf);
  }

  /**
   * Copies a block of lines in (`b` is not kept). Any line of it fits the output region: twice
   * the block (the upper half is where members move through) and the 64-byte previous hash.
   * False when the memory cannot grow that far (a 32-bit module holds at most 4 GiB; a block of
   * a gigantic line): the caller reads that block the JavaScript way.
   */
  load(b: Uint8Array): boolean {
    const inEnd = IN + b.length + 8; // a sentinel after the block: no run reads past it
    const out = (inEnd + 7) & ~7;
    const need = out + 2 * (b.length + 128);
    const have = this.x.memory.buffer.byteLength;
    this.blockEnd = IN; // nothing loaded until the copy is done
    if (need > have) {
      if (need > this.maxMemoryBytes) return false;
      try {
        this.x.memory.grow(Math.ceil((need - have) / PAGE));
      } catch {
        return false; // the engine's own limit, or no memory to give
      }
      this.views();
    }
    this.out = out;
    this.heap.set(b, IN);
    this.heap[IN + b.length] = 0x0a;
    this.blockEnd = IN + b.length;
    return true;
  }

  /**
   * The line `[s, e)` of the loaded block (offsets in the block): its compact text at
   * `heap[out, end)` (the previous hash, then the body) and its fields in `rec`; returns the
   * length (end - out), or -1 where the JavaScript loop would refuse it. `found.stored` is then
   * where the stored hash lies in `heap`.
   */
  compact(s: number, e: number, rec: ByteRecord): number {
    if (IN + e > this.blockEnd) return -1;
    const out = this.out;
    const w = this.x.compact(IN + s, IN + e, out, TAPE, TAPE + TAPE_BYTES);
    if (w < 0) return -1;
    const cmdEnd = compactFromTape(this.heap, this.heap32, TAPE, this.x.ntape.value, CMD, rec);
    if (cmdEnd < 0) return -1;
    const end = this.x.place(CMD, cmdEnd, out + 64 + (e - s) + 64, tapeChain.prev, out, tapeChain.stored, STASH);
    found.prev = out;
    found.stored = STASH;
    return end - out;
  }
}
