// The kernel ABI tables in one import: bpf() constants, errno, helpers, perf events, pt_regs
// and libbpf's section names.
export * from "./bpf.js";
export * from "./errno.js";
export * from "./helpers.js";
export * from "./perf_event.js";
export * from "./ptregs.js";
export * from "./sections.js";
