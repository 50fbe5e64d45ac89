// The BPF helpers the simulated kernel implements, registered by id (linux/bpf.h's
// __BPF_FUNC_MAPPER order) for the programs it runs. A helper that is not here is not
// implemented: PROG_LOAD refuses programs that call it, and no stub ever answers for it.
// bpf_override_return is deliberately absent: the simulated kernel has no
// CONFIG_BPF_KPROBE_OVERRIDE (kernel functions cannot be made to return early).
import { HelperTable } from "../vm/helpers.js";
import { registerAttachHelpers } from "./attach.js";
import { registerControlHelpers } from "./control.js";
import type { HelperHost } from "./host.js";
import { registerMapHelpers } from "./maps.js";
import { registerOutputHelpers } from "./output.js";
import { registerPrintkHelpers } from "./printk.js";
import { registerProbeHelpers } from "./probe.js";
import { registerStackHelpers } from "./stack.js";
import { registerTaskHelpers } from "./task.js";

export type { HelperHost, SentSignal } from "./host.js";
export { bpfPrintf, MAX_BPRINTF_BUF, type PrintfEnv, type PrintfRules } from "./printf.js";
export { kernelCallchain } from "./stack.js";

/** A fresh table with every implemented helper. */
export function kernelHelpers(): HelperTable<HelperHost> {
  const table = new HelperTable<HelperHost>();
  registerMapHelpers(table);
  registerProbeHelpers(table);
  registerTaskHelpers(table);
  registerPrintkHelpers(table);
  registerOutputHelpers(table);
  registerStackHelpers(table);
  registerControlHelpers(table);
  registerAttachHelpers(table);
  return table;
}

let shared: HelperTable<HelperHost> | undefined;

/** The table every program of every simulated kernel uses (helpers keep no state of their own). */
export function sharedKernelHelpers(): HelperTable<HelperHost> {
  return (shared ??= kernelHelpers());
}

/** Is helper `id` implemented? */
export function isHelperImplemented(id: number): boolean {
  return sharedKernelHelpers().get(id) !== undefined;
}
