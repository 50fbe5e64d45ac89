// System administration calls: kill(2), sync(2), mount(2), bind(2) and newfstatat(2), each a
// __x64_sys_* handler taking the syscall's pt_regs (so BPF_KSYSCALL programs find their
// arguments as on a kernel with syscall wrappers). What they do is kept small and
// deterministic: a signal is checked and counted, not delivered; sync flushes nothing; mount
// and privileged binds need root; stat looks the path up.
import type { SimKernel } from "./kernel.js";
import { asInt, asU32, asU64, defineSyscall } from "./syscalls.js";

/** Syscall numbers (x86_64) of the administration calls. */
export const ADMIN_NR = {
  bind: 49,
  kill: 62,
  sync: 162,
  mount: 165,
  newfstatat: 262,
} as const;

const EPERM = 1;
const ENOENT = 2;
const ESRCH = 3;
const EFAULT = 14;
const EINVAL = 22;
const EACCES = 13;
const ENOTSOCK = 88;
const AF_INET = 2;
/** Highest signal number (SIGRTMAX). */
const SIGRTMAX = 64;
/** Ports below this need CAP_NET_BIND_SERVICE (root here). */
const PROT_SOCK = 1024;

export function registerAdmin(k: SimKernel): void {
  k.defineFunction({
    proto: "void ksys_sync(void)",
    cost: 8_000,
    size: 0x70,
    body: () => null,
  });
  defineSyscall(k, ADMIN_NR.kill, "kill", (kernel, r) => {
    const pid = asInt(r[0]!);
    const sig = asInt(r[1]!);
    if (sig < 0 || sig > SIGRTMAX) return -EINVAL;
    const target = pid > 0 ? kernel.tasks.get(pid) : undefined;
    if (target === undefined || target.exitState !== 0) return -ESRCH;
    const sender = kernel.current();
    if (sender.uid !== 0 && sender.uid !== target.uid) return -EPERM;
    return 0;
  });
  defineSyscall(k, ADMIN_NR.sync, "sync", (kernel) => {
    kernel.call(kernel.fn("ksys_sync"), []);
    return 0;
  });
  defineSyscall(k, ADMIN_NR.mount, "mount", (kernel, r) => {
    const user = kernel.current().process.user;
    if (user?.readString(r[1]!, 4096) === undefined) return -EFAULT;
    if (kernel.current().uid !== 0) return -EPERM;
    return 0;
  });
  defineSyscall(k, ADMIN_NR.bind, "bind", (kernel, r) => {
    const task = kernel.current();
    const open = task.process.files.get(asInt(r[0]!))?.privateData as
      { socket?: unknown } | undefined;
    if (open?.socket === undefined) return -ENOTSOCK;
    if (asU64(r[2]!) < 16) return -EINVAL;
    const addr = task.process.user?.read(r[1]!, 16);
    if (addr === undefined) return -EFAULT;
    const view = new DataView(addr.buffer, addr.byteOffset, 16);
    if (view.getUint16(0, true) !== AF_INET) return -EINVAL;
    const port = view.getUint16(2, false);
    if (port !== 0 && port < PROT_SOCK && task.uid !== 0) return -EACCES;
    return 0;
  });
  defineSyscall(k, ADMIN_NR.newfstatat, "newfstatat", (kernel, r) => {
    const user = kernel.current().process.user;
    const path = user?.readString(r[1]!, 4096);
    if (path === undefined) return -EFAULT;
    if (asU32(r[3]!) & ~0x1d00) return -EINVAL; // AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH
    const { existing } = kernel.vfs.parentOf(path);
    return existing?.inode === undefined ? -ENOENT : 0;
  });
}
