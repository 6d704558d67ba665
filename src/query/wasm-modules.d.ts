// Lets TypeScript import .wasm files, which wrangler bundles as precompiled WebAssembly.Module (its default CompiledWasm rule).
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
