// File descriptors of a simulated process, as the kernel keeps them: a table of references to
// open files, fds handed out lowest-free-first (0, 1 and 2 are the process's stdio), and
// reference-counted file objects released when the last reference goes. The bpf() facade keeps
// its map, program and link fds here; the perf subsystem its perf event fds; the workload's
// processes their open files.
import { KernelError } from "./error.js";

/** anon_inode names the kernel gives these files (what /proc/PID/fd shows). */
export const FileKind = {
  BPF_MAP: "bpf-map",
  BPF_PROG: "bpf-prog",
  BPF_LINK: "bpf_link",
  PERF_EVENT: "[perf_event]",
  TTY: "/dev/pts/0",
  REGULAR: "file",
  SOCKET: "socket",
} as const;

/** RLIMIT_NOFILE's default soft limit. */
export const NR_OPEN_DEFAULT = 1024;

/**
 * An open file (struct file): what it is (`kind`), what it holds (`privateData`), and a reference
 * count. `release` runs when the last reference is put, as f_op->release does.
 */
export class KernelFile<T = unknown> {
  private count = 1;

  constructor(
    readonly kind: string,
    readonly privateData: T,
    private readonly release?: () => void,
  ) {}

  /** References held (fds, attachments, map slots ...). */
  get refs(): number {
    return this.count;
  }

  get released(): boolean {
    return this.count === 0;
  }

  /** get_file(). */
  get(): this {
    if (this.count <= 0)
      throw new KernelError("EBADF", "get_file", `${this.kind} file already released`);
    this.count++;
    return this;
  }

  /** fput(): the last put releases the file. */
  put(): void {
    if (this.count <= 0)
      throw new KernelError("EBADF", "fput", `${this.kind} file already released`);
    if (--this.count === 0) this.release?.();
  }
}

export class FdTable {
  private readonly fds: (KernelFile | undefined)[] = [];
  /** lowest fd that may be free (the kernel's next_fd) */
  private nextFd = 0;

  constructor(
    /** for messages: "tsbpf (pid 1000)" */
    readonly owner = "process",
    readonly maxFds = NR_OPEN_DEFAULT,
    /** open stdin, stdout and stderr first, so the first file gets fd 3 */
    withStdio = true,
  ) {
    if (withStdio) {
      for (let i = 0; i < 3; i++) this.install(new KernelFile(FileKind.TTY, undefined));
    }
  }

  /** fd_install() of a new file: takes over the caller's reference; returns the lowest free fd. */
  install(file: KernelFile): number {
    let fd = this.nextFd;
    while (fd < this.fds.length && this.fds[fd] !== undefined) fd++;
    if (fd >= this.maxFds) {
      throw new KernelError(
        "EMFILE",
        `${this.owner}: install ${file.kind}`,
        `all ${this.maxFds} fds are in use`,
      );
    }
    this.fds[fd] = file;
    this.nextFd = fd + 1;
    return fd;
  }

  /** The file open at `fd`, without taking a reference (fdget without the get). */
  get(fd: number): KernelFile | undefined {
    return Number.isInteger(fd) && fd >= 0 ? this.fds[fd] : undefined;
  }

  /** fget(): the file at `fd` with a reference taken; EBADF if none. */
  fget(fd: number, call: string): KernelFile {
    const file = this.get(fd);
    if (file === undefined) throw new KernelError("EBADF", call, `fd ${fd} is not open`);
    return file.get();
  }

  /** close(): drop the fd's reference; EBADF if the fd is not open. */
  close(fd: number): void {
    const file = this.get(fd);
    if (file === undefined) throw new KernelError("EBADF", `close(${fd})`, `fd ${fd} is not open`);
    this.fds[fd] = undefined;
    if (fd < this.nextFd) this.nextFd = fd;
    file.put();
  }

  /** dup(): another fd for the same file. */
  dup(fd: number): number {
    const file = this.fget(fd, `dup(${fd})`);
    try {
      return this.install(file);
    } catch (err) {
      file.put();
      throw err;
    }
  }

  /** Open fds in ascending order. */
  list(): [number, KernelFile][] {
    const out: [number, KernelFile][] = [];
    this.fds.forEach((f, fd) => {
      if (f !== undefined) out.push([fd, f]);
    });
    return out;
  }

  /** Close every fd (process exit). */
  closeAll(): void {
    for (const [fd] of this.list()) this.close(fd);
  }
}
