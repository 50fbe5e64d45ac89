// Helpers about the running context: the clock, the CPU, the random stream and the current task
// (pid/tgid, uid/gid, comm, task_struct), and the two that act on the task: bpf_send_signal and
// bpf_probe_write_user. Time comes from the simulated clock and random numbers from the CPU's
// own stream, so neither depends on how many instructions ran or which engine ran them.
import { PF_EXITING, PF_KTHREAD } from "../kernel/tasks.js";
import { Errno } from "../uapi/errno.js";
import { BpfFunc } from "../uapi/helpers.js";
import { setResult, setResultSigned, type HelperContext, type HelperTable } from "../vm/helpers.js";
import { setU64Result, type HelperHost } from "./host.js";

type Vm = HelperContext<HelperHost>;

/** _NSIG: signals are 1..64. */
const NSIG = 64;

function ktimeGetNs(vm: Vm): void {
  setU64Result(vm, vm.host.kernel.clock.ns);
}

function ktimeGetBootNs(vm: Vm): void {
  setU64Result(vm, vm.host.kernel.clock.bootNs);
}

function ktimeGetCoarseNs(vm: Vm): void {
  setU64Result(vm, vm.host.kernel.clock.coarseNs);
}

function jiffies64(vm: Vm): void {
  setU64Result(vm, vm.host.kernel.clock.jiffies);
}

function getPrandomU32(vm: Vm): void {
  setResult(vm, vm.host.cpu.prandom.u32() | 0, 0);
}

function getSmpProcessorId(vm: Vm): void {
  setResult(vm, vm.host.cpu.id, 0);
}

function getNumaNodeId(vm: Vm): void {
  setResult(vm, 0, 0); // one NUMA node
}

/** tgid << 32 | pid */
function getCurrentPidTgid(vm: Vm): void {
  const task = vm.host.cpu.current;
  setResult(vm, task.pid, task.tgid);
}

/** gid << 32 | uid */
function getCurrentUidGid(vm: Vm): void {
  const task = vm.host.cpu.current;
  setResult(vm, task.uid, task.gid);
}

/** bpf_get_current_comm(buf, size): strscpy_pad of task->comm; 0. */
function getCurrentComm(vm: Vm): void {
  const r = vm.regs;
  const size = r[4]! >>> 0;
  if (size === 0) {
    setResult(vm, 0, 0);
    return;
  }
  const dst = vm.memory.check(r[2]!, r[3]!, size, "write");
  const comm = new TextEncoder().encode(vm.host.cpu.current.comm);
  const n = Math.min(comm.length, size - 1);
  const u8 = vm.memory.u8;
  u8.set(comm.subarray(0, n), dst);
  u8.fill(0, dst + n, dst + size);
  setResult(vm, 0, 0);
}

/** bpf_get_current_task / bpf_get_current_task_btf: the task_struct's address. */
function getCurrentTask(vm: Vm): void {
  const task = vm.host.cpu.current.address;
  setResult(vm, task.lo, task.hi);
}

/**
 * bpf_send_signal(sig) / bpf_send_signal_thread(sig): not for kernel threads, exiting tasks or
 * init (-EPERM); then a signal number above 64 is -EINVAL (0 only checks). Programs on kprobes run with interrupts off,
 * where the kernel defers the signal to irq_work; it is queued all the same.
 */
function sendSignal(thread: boolean) {
  return (vm: Vm): void => {
    const task = vm.host.cpu.current;
    const sig = vm.regs[2]! >>> 0; // a u32 argument
    if ((task.flags & (PF_KTHREAD | PF_EXITING)) !== 0 || task.pid === 0 || task.tgid === 1) {
      setResultSigned(vm, -Errno.EPERM);
      return;
    }
    if (sig > NSIG) {
      setResultSigned(vm, -Errno.EINVAL);
      return;
    }
    if (sig !== 0) vm.host.sendSignal(task, sig, thread);
    setResult(vm, 0, 0);
  };
}

/**
 * bpf_probe_write_user(dst, src, len): copy program memory into the current task's user
 * memory. Not from interrupts, kernel threads or exiting tasks (-EPERM); -EFAULT when the
 * destination is not mapped user memory.
 */
function probeWriteUser(vm: Vm): void {
  const { cpu } = vm.host;
  const task = cpu.current;
  if (cpu.inHardirq || cpu.inSoftirq || (task.flags & (PF_KTHREAD | PF_EXITING)) !== 0) {
    setResultSigned(vm, -Errno.EPERM);
    return;
  }
  const r = vm.regs;
  const size = r[6]! >>> 0;
  const bytes = vm.memory.readBytes(r[4]!, r[5]!, size);
  const user = task.process.user;
  const ok = user !== undefined && user.write({ lo: r[2]!, hi: r[3]! }, bytes);
  setResultSigned(vm, ok ? 0 : -Errno.EFAULT);
}

export function registerTaskHelpers(table: HelperTable<HelperHost>): void {
  const F = BpfFunc;
  table
    .register(F.BPF_FUNC_ktime_get_ns, "bpf_ktime_get_ns", ktimeGetNs)
    .register(F.BPF_FUNC_ktime_get_boot_ns, "bpf_ktime_get_boot_ns", ktimeGetBootNs)
    .register(F.BPF_FUNC_ktime_get_coarse_ns, "bpf_ktime_get_coarse_ns", ktimeGetCoarseNs)
    .register(F.BPF_FUNC_jiffies64, "bpf_jiffies64", jiffies64)
    .register(F.BPF_FUNC_get_prandom_u32, "bpf_get_prandom_u32", getPrandomU32)
    .register(F.BPF_FUNC_get_smp_processor_id, "bpf_get_smp_processor_id", getSmpProcessorId)
    .register(F.BPF_FUNC_get_numa_node_id, "bpf_get_numa_node_id", getNumaNodeId)
    .register(F.BPF_FUNC_get_current_pid_tgid, "bpf_get_current_pid_tgid", getCurrentPidTgid)
    .register(F.BPF_FUNC_get_current_uid_gid, "bpf_get_current_uid_gid", getCurrentUidGid)
    .register(F.BPF_FUNC_get_current_comm, "bpf_get_current_comm", getCurrentComm)
    .register(F.BPF_FUNC_get_current_task, "bpf_get_current_task", getCurrentTask)
    .register(F.BPF_FUNC_get_current_task_btf, "bpf_get_current_task_btf", getCurrentTask)
    .register(F.BPF_FUNC_send_signal, "bpf_send_signal", sendSignal(false))
    .register(F.BPF_FUNC_send_signal_thread, "bpf_send_signal_thread", sendSignal(true))
    .register(F.BPF_FUNC_probe_write_user, "bpf_probe_write_user", probeWriteUser);
}
