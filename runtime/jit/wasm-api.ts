// The parts of the WebAssembly JavaScript API the JIT uses. The project's lib settings (ES2022
// and node types) do not declare the WebAssembly namespace, so it is typed here and reached
// through globalThis, as runtime/vm/memory.ts does for WebAssembly.Memory.

export interface WasmModule {
  readonly __brand?: "WebAssembly.Module";
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (
    module: WasmModule,
    imports: Record<string, Record<string, unknown>>,
  ) => WasmInstance;
  RuntimeError: new (...args: unknown[]) => Error;
  validate(bytes: Uint8Array): boolean;
}

export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
