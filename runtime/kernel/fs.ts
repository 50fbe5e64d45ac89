// The VFS of the simulated kernel: mounts, superblocks, dentries and inodes in the address space
// (so f_path.dentry->d_name.name and friends read as in the kernel), open files with their
// struct file, and the file system calls along the kernel's own call chains:
//
//   openat   -> do_sys_open -> do_sys_openat2 -> getname, do_filp_open (-> vfs_create),
//               fd_install, putname
//   read     -> ksys_read  -> vfs_read          write -> ksys_write -> vfs_write (sockets:
//                                                         -> tcp_sendmsg)
//   close    -> close_fd   -> filp_close        (last reference: sockets -> tcp_close)
//   unlinkat -> getname, do_unlinkat -> vfs_unlink, putname
//   fsync    -> vfs_fsync  -> submit_bio ...    (the block layer)
//
// File contents are not stored: a file has a size, reads return what is left of it and copy a
// deterministic prefix of bytes to the user buffer, writes extend it.
import { KernelError } from "./error.js";
import { FileKind, KernelFile } from "./files.js";
import type { KArg } from "./functions.js";
import type { SimKernel } from "./kernel.js";
import { KObject, kptr, type Ptr } from "./objects.js";
import { asInt, asU64, defineSyscall, NR } from "./syscalls.js";
import type { Socket } from "./net.js";
import { utf8 } from "./objects.js";

export const O_ACCMODE = 3;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
export const AT_FDCWD = -100;
export const AT_REMOVEDIR = 0x200;
const FMODE_READ = 0x1;
const FMODE_WRITE = 0x2;
const FMODE_LSEEK = 0x4;
const FMODE_PREAD = 0x8;
const FMODE_PWRITE = 0x10;
const FMODE_OPENED = 0x80000;
const FMODE_CAN_READ = 0x20000;
const FMODE_CAN_WRITE = 0x40000;
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFCHR = 0o020000;
export const S_IFSOCK = 0o140000;
/** names up to this many bytes live in the dentry itself (d_iname) */
const DNAME_INLINE_LEN = 32;
const EMBEDDED_NAME_MAX = 4096 - 64;

/** -errno as a kernel pointer (ERR_PTR). */
export const errPtr = (errno: number): Ptr => ({ lo: -errno | 0, hi: -1 });
/** IS_ERR(): a pointer in the last page of the address space. */
export const isErr = (p: KArg): boolean =>
  p !== null && typeof p === "object" && p.hi === -1 && p.lo >>> 0 >= 0xfffff001;
/** PTR_ERR() of a pointer IS_ERR() accepted. */
export const ptrErr = (p: KArg): number => (p as Ptr).lo | 0;

const mkdev = (major: number, minor: number): number => ((major << 20) | minor) >>> 0;

/** FNV-1a as the simulated full_name_hash(). */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Superblock {
  readonly obj: KObject;
  root!: Dentry;
  mount!: Mount;
  constructor(
    vfs: Vfs,
    readonly fsType: string,
    readonly dev: number,
    readonly magic: number,
    readonly id: string,
  ) {
    const k = vfs.kernel;
    this.obj = k.newObject("super_block");
    this.obj
      .set("s_dev", dev)
      .set("s_blocksize_bits", 12)
      .set("s_blocksize", 4096)
      .set("s_maxbytes", 0x7fffffffffff)
      .set("s_type", vfs.fsTypeObject(fsType))
      .set("s_magic", magic)
      .setString("s_id", id);
  }
}

export class Mount {
  readonly obj: KObject;
  constructor(
    vfs: Vfs,
    readonly sb: Superblock,
    parent: Mount | undefined,
    mountpoint: Dentry | undefined,
    id: number,
    /** where it is mounted: "/", "/proc" ... */
    readonly mountpointPath: string,
  ) {
    this.obj = vfs.kernel.newObject("mount");
    this.obj
      .set("mnt_parent", parent?.obj ?? this.obj)
      .set("mnt_mountpoint", mountpoint?.obj ?? sb.root.obj)
      .set("mnt.mnt_root", sb.root.obj)
      .set("mnt.mnt_sb", sb.obj)
      .set("mnt_id", id);
  }

  /** &mount->mnt, what struct path holds. */
  get vfsmount(): Ptr {
    return this.obj.addressOf("mnt");
  }
}

export class Inode {
  readonly obj: KObject;
  openCount = 0;
  /** bytes from the start that are in the page cache (reads beyond go to the disk) */
  cached: number;
  constructor(
    vfs: Vfs,
    readonly sb: Superblock,
    readonly ino: number,
    public mode: number,
    private sizeValue: number,
    uid: number,
  ) {
    const now = vfs.kernel.clock.realtimeNs;
    this.cached = sizeValue <= 64 * 1024 ? sizeValue : 0;
    this.obj = vfs.kernel.newObject("inode");
    this.obj
      .set("i_mode", mode)
      .set("i_uid.val", uid)
      .set("i_gid.val", uid)
      .set("i_sb", sb.obj)
      .set("i_ino", ino)
      .set("__i_nlink", 1)
      .set("i_size", sizeValue)
      .set("i_blkbits", 12)
      .set("i_blocks", Math.ceil(sizeValue / 512))
      .set("i_count.counter", 1);
    for (const t of ["i_atime", "i_mtime", "i_ctime"]) {
      this.obj.set(`${t}.tv_sec`, Math.floor(now / 1e9)).set(`${t}.tv_nsec`, now % 1e9);
    }
  }

  get size(): number {
    return this.sizeValue;
  }

  set size(value: number) {
    this.sizeValue = value;
    this.obj.set("i_size", value).set("i_blocks", Math.ceil(value / 512));
  }

  get isDir(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
}

export class Dentry {
  readonly obj: KObject;
  readonly children = new Map<string, Dentry>();
  inode: Inode | undefined;
  private nameBuffer = 0;

  constructor(
    private readonly vfs: Vfs,
    readonly name: string,
    readonly parent: Dentry | undefined,
    readonly sb: Superblock,
    inode: Inode | undefined,
  ) {
    const k = vfs.kernel;
    this.obj = k.newObject("dentry");
    const bytes = utf8.encode(name);
    let namePtr: Ptr;
    if (bytes.length < DNAME_INLINE_LEN) {
      k.memory.u8.set(bytes, this.obj.at("d_iname"));
      namePtr = this.obj.addressOf("d_iname");
    } else {
      this.nameBuffer = k.kstrdup(name);
      namePtr = kptr(this.nameBuffer);
    }
    this.obj
      .set("d_parent", parent?.obj ?? this.obj)
      .set("d_name.hash", nameHash(name))
      .set("d_name.len", bytes.length)
      .set("d_name.name", namePtr)
      .set("d_sb", sb.obj);
    for (const list of ["d_child", "d_subdirs"]) {
      this.obj
        .set(`${list}.next`, this.obj.addressOf(list))
        .set(`${list}.prev`, this.obj.addressOf(list));
    }
    this.setInode(inode);
    parent?.children.set(name, this);
    vfs.dentries.set(this.obj.lo, this);
  }

  setInode(inode: Inode | undefined): void {
    this.inode = inode;
    this.obj.set("d_inode", inode?.obj ?? null);
  }

  /** The absolute path, as d_path() would give it. */
  get path(): string {
    if (this.parent === undefined) return this.sb.mount.mountpointPath;
    const parentPath = this.parent.path;
    return parentPath.endsWith("/") ? parentPath + this.name : `${parentPath}/${this.name}`;
  }
}

/** An open file (the private data of a KernelFile in a process's fd table). */
export class OpenFile {
  pos = 0;
  constructor(
    /** struct file */
    readonly obj: KObject,
    readonly dentry: Dentry | undefined,
    readonly inode: Inode | undefined,
    readonly flags: number,
    readonly mode: number,
    readonly socket?: Socket,
  ) {}

  get readable(): boolean {
    return (this.mode & FMODE_READ) !== 0;
  }

  get writable(): boolean {
    return (this.mode & FMODE_WRITE) !== 0;
  }
}

interface FileSpec {
  path: string;
  size: number;
  uid?: number;
  mode?: number;
}

/** The files of the simulated machine at boot. */
const BOOT_FILES: FileSpec[] = [
  { path: "/etc/passwd", size: 2814 },
  { path: "/etc/group", size: 1106 },
  { path: "/etc/hosts", size: 221 },
  { path: "/etc/resolv.conf", size: 920 },
  { path: "/etc/nsswitch.conf", size: 526 },
  { path: "/etc/ld.so.cache", size: 98765 },
  { path: "/etc/localtime", size: 114 },
  { path: "/etc/ssl/certs/ca-certificates.crt", size: 213777 },
  { path: "/etc/nginx/nginx.conf", size: 1447 },
  { path: "/lib/x86_64-linux-gnu/libc.so.6", size: 2216304, mode: 0o755 },
  { path: "/lib/x86_64-linux-gnu/libm.so.6", size: 940560, mode: 0o755 },
  { path: "/lib/x86_64-linux-gnu/libpthread.so.0", size: 21448, mode: 0o755 },
  { path: "/lib/x86_64-linux-gnu/libssl.so.3", size: 667864, mode: 0o755 },
  { path: "/usr/lib/locale/locale-archive", size: 3048928 },
  { path: "/usr/bin/bash", size: 1396520, mode: 0o755 },
  { path: "/usr/bin/ls", size: 138216, mode: 0o755 },
  { path: "/usr/bin/cat", size: 35280, mode: 0o755 },
  { path: "/usr/bin/git", size: 3972224, mode: 0o755 },
  { path: "/usr/share/zoneinfo/UTC", size: 114 },
  { path: "/var/log/syslog", size: 1048576 },
  { path: "/var/log/auth.log", size: 65536 },
  { path: "/var/log/nginx/access.log", size: 524288, uid: 33 },
  { path: "/var/www/html/index.html", size: 10671, uid: 33 },
  { path: "/var/www/html/style.css", size: 4231, uid: 33 },
  { path: "/var/lib/postgresql/14/main/base/16384/1259", size: 122880, uid: 113 },
  { path: "/var/lib/postgresql/14/main/base/16384/2619", size: 229376, uid: 113 },
  { path: "/var/lib/postgresql/14/main/pg_wal/000000010000000000000001", size: 16777216, uid: 113 },
  { path: "/home/user/.bashrc", size: 3771, uid: 1000 },
  { path: "/home/user/.profile", size: 807, uid: 1000 },
  { path: "/home/user/project/main.c", size: 12034, uid: 1000 },
  { path: "/home/user/project/util.c", size: 5210, uid: 1000 },
  { path: "/home/user/project/Makefile", size: 512, uid: 1000 },
  { path: "/proc/meminfo", size: 1432 },
  { path: "/proc/stat", size: 3211 },
  { path: "/proc/loadavg", size: 27 },
  { path: "/proc/self/stat", size: 312 },
  { path: "/sys/fs/cgroup/cpu.max", size: 11 },
  { path: "/tmp/.X11-unix/X0", size: 0 },
];

const CHAR_DEVICES = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/pts/0"];

export class Vfs {
  readonly mounts: Mount[] = [];
  /** every dentry by the low word of its address */
  readonly dentries = new Map<number, Dentry>();
  /** every open struct file by the low word of its address */
  private readonly files = new Map<number, KernelFile<OpenFile>>();
  /** the file do_filp_open just opened, until do_sys_openat2 installs it */
  pending: KernelFile<OpenFile> | undefined;
  private readonly fsTypes = new Map<string, KObject>();
  private nextIno = 2;
  readonly rootMount: Mount;
  constructor(readonly kernel: SimKernel) {
    const root = this.mountFs("/", "ext4", mkdev(259, 2), 0xef53, "nvme0n1p2", undefined);
    this.rootMount = root;
    this.mountFs("/proc", "proc", mkdev(0, 22), 0x9fa0, "proc", root);
    this.mountFs("/sys", "sysfs", mkdev(0, 21), 0x62656572, "sysfs", root);
    this.mountFs("/dev", "devtmpfs", mkdev(0, 5), 0x01021994, "udev", root);
    this.mountFs("/tmp", "tmpfs", mkdev(0, 27), 0x01021994, "tmpfs", root);
    for (const f of BOOT_FILES)
      this.createPath(f.path, S_IFREG | (f.mode ?? 0o644), f.size, f.uid ?? 0);
    for (const path of CHAR_DEVICES) this.createPath(path, S_IFCHR | 0o666, 0, 0);
  }

  /** The struct file_system_type of a file system name. */
  fsTypeObject(name: string): KObject {
    let obj = this.fsTypes.get(name);
    if (obj === undefined) {
      obj = this.kernel.newObject("file_system_type");
      obj.set("name", kptr(this.kernel.kstrdup(name)));
      this.fsTypes.set(name, obj);
    }
    return obj;
  }

  private mountFs(
    path: string,
    fsType: string,
    dev: number,
    magic: number,
    id: string,
    parent: Mount | undefined,
  ): Mount {
    const sb = new Superblock(this, fsType, dev, magic, id);
    const rootInode = new Inode(this, sb, this.nextIno++, S_IFDIR | 0o755, 4096, 0);
    const mountpoint = parent ? this.createPath(path, S_IFDIR | 0o755, 4096, 0) : undefined;
    sb.root = new Dentry(this, "/", undefined, sb, rootInode);
    sb.obj.set("s_root", sb.root.obj);
    const mount = new Mount(this, sb, parent, mountpoint, this.mounts.length + 1, path);
    sb.mount = mount;
    this.mounts.push(mount);
    return mount;
  }

  /** Nothing left to do once functions exist; kept for symmetry with the other subsystems. */
  boot(): void {}

  /** fs_struct root and pwd: "/". */
  setRootAndPwd(fs: KObject): void {
    const root = this.rootMount ?? undefined;
    if (root === undefined) return;
    for (const p of ["root", "pwd"]) {
      fs.set(`${p}.mnt`, root.vfsmount).set(`${p}.dentry`, root.sb.root.obj);
    }
  }

  /** The mount a path lives on and the path inside it. */
  private mountOf(path: string): { mount: Mount; rest: string[] } {
    let best = this.mounts[0]!;
    for (const m of this.mounts) {
      const mp = m.mountpointPath;
      if (
        (path === mp || path.startsWith(mp === "/" ? "/" : mp + "/")) &&
        mp.length > best.mountpointPath.length
      )
        best = m;
    }
    const rest = path
      .slice(best.mountpointPath.length)
      .split("/")
      .filter((s) => s !== "");
    return { mount: best, rest };
  }

  /** Walk to a dentry (positive or negative); undefined when a directory on the way is missing. */
  private walk(
    path: string,
    create: boolean,
  ): { dentry: Dentry | undefined; parent: Dentry | undefined; name: string; mount: Mount } {
    const { mount, rest } = this.mountOf(normalize(path));
    let dir = mount.sb.root;
    for (let i = 0; i < rest.length - 1; i++) {
      let next = dir.children.get(rest[i]!);
      if (next === undefined || next.inode === undefined) {
        if (!create)
          return { dentry: undefined, parent: undefined, name: rest[rest.length - 1]!, mount };
        next = new Dentry(
          this,
          rest[i]!,
          dir,
          mount.sb,
          new Inode(this, mount.sb, this.nextIno++, S_IFDIR | 0o755, 4096, 0),
        );
      }
      dir = next;
    }
    if (rest.length === 0)
      return { dentry: mount.sb.root, parent: mount.sb.root, name: "/", mount };
    const name = rest[rest.length - 1]!;
    return { dentry: dir.children.get(name), parent: dir, name, mount };
  }

  /** The positive dentry of a path, if it exists. */
  lookup(path: string): Dentry | undefined {
    const d = this.walk(path, false).dentry;
    return d?.inode === undefined ? undefined : d;
  }

  /** Create a file (and the directories leading to it) at boot. */
  createPath(path: string, mode: number, size: number, uid: number): Dentry {
    const w = this.walk(path, true);
    const inode = new Inode(this, w.mount.sb, this.nextIno++, mode, size, uid);
    if (w.dentry !== undefined) {
      w.dentry.setInode(inode);
      return w.dentry;
    }
    return new Dentry(this, w.name, w.parent, w.mount.sb, inode);
  }

  /** The parent directory's dentry and the final name, creating nothing. */
  parentOf(path: string): {
    parent: Dentry | undefined;
    name: string;
    existing: Dentry | undefined;
    mount: Mount;
  } {
    const w = this.walk(path, false);
    return { parent: w.parent, name: w.name, existing: w.dentry, mount: w.mount };
  }

  /** A new inode for a file created on `dir`'s file system. */
  newInode(dir: Dentry, mode: number, uid: number): Inode {
    return new Inode(this, dir.sb, this.nextIno++, mode, 0, uid);
  }

  /** A negative dentry for `name` in `dir` (d_alloc), or the existing one. */
  dentryIn(dir: Dentry, name: string): Dentry {
    return dir.children.get(name) ?? new Dentry(this, name, dir, dir.sb, undefined);
  }

  /** A struct file for a dentry, opened with `flags`. */
  openFile(dentry: Dentry, flags: number): KernelFile<OpenFile> {
    const k = this.kernel;
    const inode = dentry.inode!;
    const acc = flags & O_ACCMODE;
    let mode = FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE | FMODE_OPENED;
    if (acc === O_RDONLY || acc === O_RDWR) mode |= FMODE_READ | FMODE_CAN_READ;
    if (acc === O_WRONLY || acc === O_RDWR) mode |= FMODE_WRITE | FMODE_CAN_WRITE;
    const obj = k.newObject("file");
    obj
      .set("f_path.mnt", dentry.sb.mount.vfsmount)
      .set("f_path.dentry", dentry.obj)
      .set("f_inode", inode.obj)
      .set("f_count.counter", 1)
      .set("f_flags", flags)
      .set("f_mode", mode)
      .set("f_cred", k.current().cred);
    inode.openCount++;
    const open = new OpenFile(obj, dentry, inode, flags, mode);
    if ((flags & O_APPEND) !== 0) open.pos = inode.size;
    return this.track(new KernelFile(FileKind.REGULAR, open, () => this.releaseFile(open)));
  }

  private track(file: KernelFile<OpenFile>): KernelFile<OpenFile> {
    this.files.set(file.privateData.obj.lo, file);
    return file;
  }

  /** The open file whose struct file is at `p`. */
  fileAt(p: KArg | undefined): OpenFile | undefined {
    if (p === null || p === undefined || typeof p !== "object") return undefined;
    return this.files.get(p.lo)?.privateData;
  }

  /** The dentry at `p`. */
  dentryAt(p: KArg | undefined): Dentry | undefined {
    if (p === null || p === undefined || typeof p !== "object") return undefined;
    return this.dentries.get(p.lo);
  }

  /** A struct file for a socket (sock_alloc_file). */
  socketFile(socket: Socket): KernelFile<OpenFile> {
    const k = this.kernel;
    const obj = k.newObject("file");
    const mode = FMODE_READ | FMODE_WRITE | FMODE_CAN_READ | FMODE_CAN_WRITE | FMODE_OPENED;
    obj
      .set("f_count.counter", 1)
      .set("f_flags", O_RDWR)
      .set("f_mode", mode)
      .set("f_cred", k.current().cred)
      .set("private_data", socket.socketObj);
    socket.socketObj.set("file", obj);
    const open = new OpenFile(obj, undefined, undefined, O_RDWR, mode, socket);
    return this.track(new KernelFile(FileKind.SOCKET, open, () => this.releaseFile(open)));
  }

  /** __fput(): the last reference to an open file went away. */
  private releaseFile(open: OpenFile): void {
    const k = this.kernel;
    if (open.socket !== undefined) k.net.releaseSocket(open.socket);
    if (open.inode !== undefined) open.inode.openCount--;
    this.files.delete(open.obj.lo);
    k.freeObject(open.obj);
  }
}

function normalize(path: string): string {
  return path.startsWith("/") ? path : `/${path}`;
}

/** The file behind an fd of the current task, or undefined. */
export function fileOf(kernel: SimKernel, fd: number): OpenFile | undefined {
  return kernel.current().process.files.get(fd)?.privateData as OpenFile | undefined;
}

/** Deterministic file bytes for a read: the path repeated. */
function contentBytes(path: string, pos: number, length: number): Uint8Array {
  const text = utf8.encode(`${path}\n`);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = text[(pos + i) % text.length]!;
  return out;
}

/** Bytes of a transfer actually copied (the rest of a large buffer is left as it was). */
const COPY_LIMIT = 256;

/** The OpenFile whose struct file is at a pointer argument. */
const openFileAt = (kernel: SimKernel, arg: KArg | undefined): OpenFile | undefined =>
  kernel.vfs.fileAt(arg);

export function registerFs(k: SimKernel): void {
  const def = k.defineFunction.bind(k);

  def({
    proto: "struct filename *getname(const char __user *filename)",
    cost: 150,
    size: 0x30,
    body: (kernel, args) => {
      const uptr = args[0] as Ptr;
      const user = kernel.current().process.user;
      const name = user?.readString(uptr, EMBEDDED_NAME_MAX);
      if (name === undefined) return errPtr(14); // -EFAULT
      if (name === "") return errPtr(2); // -ENOENT
      return newFilename(kernel, name, uptr);
    },
  });
  def({
    proto: "void putname(struct filename *name)",
    cost: 40,
    size: 0x70,
    body: (kernel, args) => {
      const p = args[0] as KArg;
      if (p !== null && typeof p === "object" && !isErr(p)) kernel.kmalloc.free(p.lo >>> 0);
      return null;
    },
  });
  def({
    proto:
      "int vfs_create(struct user_namespace *mnt_userns, struct inode *dir, struct dentry *dentry, umode_t mode, bool want_excl)",
    cost: 2_000,
    size: 0x1a0,
    body: () => 0,
  });
  def({
    proto:
      "struct file *do_filp_open(int dfd, struct filename *pathname, const struct open_flags *op)",
    cost: 1_500,
    size: 0x120,
    body: (kernel, args) => doFilpOpen(kernel, args),
  });
  def({
    proto: "void fd_install(unsigned int fd, struct file *file)",
    cost: 30,
    size: 0x80,
    body: () => null,
  });
  def({
    proto: "long do_sys_openat2(int dfd, const char __user *filename, struct open_how *how)",
    cost: 200,
    size: 0x1c0,
    body: (kernel, args) => doSysOpenat2(kernel, args),
  });
  def({
    proto: "long do_sys_open(int dfd, const char __user *filename, int flags, umode_t mode)",
    cost: 40,
    size: 0x90,
    body: (kernel, args) => {
      const how = kernel.stackObject("open_how");
      const flags = (args[2] as number) >>> 0;
      how
        .set("flags", flags)
        .set("mode", (flags & O_CREAT) !== 0 ? (args[3] as number) & 0o7777 : 0);
      return kernel.call(kernel.fn("do_sys_openat2"), [args[0]!, args[1]!, how]);
    },
  });
  def({
    proto:
      "int vfs_unlink(struct user_namespace *mnt_userns, struct inode *dir, struct dentry *dentry, struct inode **delegated_inode)",
    cost: 2_500,
    size: 0x260,
    body: (kernel, args) => {
      const target = args[2] as Ptr;
      const found = kernel.vfs.dentryAt(target);
      if (found?.inode === undefined) return -2;
      found.inode.obj.set("__i_nlink", 0);
      found.setInode(undefined);
      return 0;
    },
  });
  def({
    proto: "int do_unlinkat(int dfd, struct filename *name)",
    cost: 800,
    size: 0x2e0,
    body: (kernel, args) => {
      const name = args[1] as Ptr;
      const result = unlinkAt(kernel, name);
      kernel.call(kernel.fn("putname"), [name]);
      return result;
    },
  });
  def({
    proto: "ssize_t vfs_read(struct file *file, char __user *buf, size_t count, loff_t *pos)",
    cost: 300,
    size: 0x1b0,
    body: (kernel, args) => vfsRead(kernel, args),
  });
  def({
    proto:
      "ssize_t vfs_write(struct file *file, const char __user *buf, size_t count, loff_t *pos)",
    cost: 400,
    size: 0x220,
    body: (kernel, args) => vfsWrite(kernel, args),
  });
  def({
    proto: "ssize_t ksys_read(unsigned int fd, char __user *buf, size_t count)",
    cost: 60,
    size: 0xc0,
    body: (kernel, args) => ksysReadWrite(kernel, args, "vfs_read"),
  });
  def({
    proto: "ssize_t ksys_write(unsigned int fd, const char __user *buf, size_t count)",
    cost: 60,
    size: 0xc0,
    body: (kernel, args) => ksysReadWrite(kernel, args, "vfs_write"),
  });
  def({
    proto: "int filp_close(struct file *filp, fl_owner_t id)",
    cost: 120,
    size: 0x70,
    body: () => 0,
  });
  def({
    proto: "int close_fd(unsigned int fd)",
    cost: 80,
    size: 0x60,
    body: (kernel, args) => {
      const fd = (args[0] as number) | 0;
      const process = kernel.current().process;
      const file = process.files.get(fd);
      if (file === undefined) return -9; // -EBADF
      const open = file.privateData as OpenFile | undefined;
      const result = kernel.call(kernel.fn("filp_close"), [open?.obj ?? null, process.filesStruct]);
      process.closeFile(fd);
      return result;
    },
  });
  def({
    proto: "int vfs_fsync(struct file *file, int datasync)",
    cost: 500,
    size: 0x70,
    body: (kernel, args) => {
      const open = openFileAt(kernel, args[0]);
      if (open === undefined) return -9;
      return kernel.block.writeback(open);
    },
  });

  defineSyscall(k, NR.openat, "openat", (kernel, r) =>
    kernel.call(kernel.fn("do_sys_open"), [
      asInt(r[0]!),
      r[1]!,
      asInt(r[2]!),
      asInt(r[3]!) & 0xffff,
    ]),
  );
  defineSyscall(k, NR.openat2, "openat2", (kernel, r) => {
    const how = kernel.stackObject("open_how");
    const user = kernel.current().process.user;
    const bytes = user?.read(r[2]!, Math.min(asU64(r[3]!), 24));
    if (bytes === undefined) return -14;
    kernel.memory.u8.set(bytes, how.offset);
    return kernel.call(kernel.fn("do_sys_openat2"), [asInt(r[0]!), r[1]!, how]);
  });
  defineSyscall(k, NR.read, "read", (kernel, r) =>
    kernel.call(kernel.fn("ksys_read"), [r[0]!.lo >>> 0, r[1]!, asU64(r[2]!)]),
  );
  defineSyscall(k, NR.write, "write", (kernel, r) =>
    kernel.call(kernel.fn("ksys_write"), [r[0]!.lo >>> 0, r[1]!, asU64(r[2]!)]),
  );
  defineSyscall(k, NR.close, "close", (kernel, r) =>
    kernel.call(kernel.fn("close_fd"), [r[0]!.lo >>> 0]),
  );
  defineSyscall(k, NR.unlinkat, "unlinkat", (kernel, r) => {
    const name = kernel.call(kernel.fn("getname"), [r[1]!]);
    if (isErr(name)) return ptrErr(name);
    return kernel.call(kernel.fn("do_unlinkat"), [asInt(r[0]!), name]);
  });
  defineSyscall(k, NR.fsync, "fsync", (kernel, r) => {
    const open = fileOf(kernel, r[0]!.lo | 0);
    if (open === undefined) return -9;
    return kernel.call(kernel.fn("vfs_fsync"), [open.obj, 0]);
  });
}

/** getname's struct filename: the name right after the struct (iname), name -> iname. */
function newFilename(kernel: SimKernel, name: string, uptr: Ptr): Ptr {
  const obj = kernel.kmalloc.alloc(32 + name.length + 1);
  const f = KObject.of(kernel.memory, "filename", obj);
  kernel.memory.u8.set(utf8.encode(name + "\0"), f.at("iname"));
  f.set("name", f.addressOf("iname")).set("uptr", uptr).set("refcnt", 1);
  return kptr(obj);
}

/** The path a struct filename holds. */
function filenameString(kernel: SimKernel, p: Ptr): string {
  const f = KObject.of(kernel.memory, "filename", p.lo >>> 0);
  const name = f.ptr("name");
  return utf8.decode(kernel.memory.readCString(name.lo, name.hi));
}

function doSysOpenat2(kernel: SimKernel, args: readonly KArg[]): KArg {
  const how = args[2] as Ptr;
  const flags = kernel.memory.view.getUint32(how.lo >>> 0, true);
  const mode = kernel.memory.view.getUint32((how.lo >>> 0) + 8, true);
  const name = kernel.call(kernel.fn("getname"), [args[1]!]);
  if (isErr(name)) return ptrErr(name);
  const op = kernel.stackObject("open_flags");
  op.set("open_flag", flags)
    .set("mode", mode)
    .set("acc_mode", (flags & O_ACCMODE) + 1);
  const file = kernel.call(kernel.fn("do_filp_open"), [args[0]!, name, op]);
  let result: number;
  if (isErr(file)) {
    result = ptrErr(file);
  } else {
    const open = kernel.vfs.pending!;
    kernel.vfs.pending = undefined;
    const process = kernel.current().process;
    try {
      result = process.installFile(open);
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      open.put();
      result = -err.errno;
    }
    if (result >= 0) kernel.call(kernel.fn("fd_install"), [result, file]);
  }
  kernel.call(kernel.fn("putname"), [name]);
  return result;
}

function doFilpOpen(kernel: SimKernel, args: readonly KArg[]): KArg {
  const path = filenameString(kernel, args[1] as Ptr);
  const op = args[2] as Ptr;
  const flags = kernel.memory.view.getUint32(op.lo >>> 0, true);
  const mode = kernel.memory.view.getUint16((op.lo >>> 0) + 4, true);
  const vfs = kernel.vfs;
  const { parent, name, existing } = vfs.parentOf(path);
  let dentry = existing?.inode !== undefined ? existing : undefined;
  if (dentry === undefined) {
    if ((flags & O_CREAT) === 0 || parent === undefined || parent.inode === undefined)
      return errPtr(2);
    const d = vfs.dentryIn(parent, name);
    kernel.call(kernel.fn("vfs_create"), [
      null,
      parent.inode.obj,
      d.obj,
      mode,
      (flags & O_EXCL) !== 0 ? 1 : 0,
    ]);
    d.setInode(vfs.newInode(parent, S_IFREG | (mode & 0o7777), kernel.current().uid));
    dentry = d;
  } else if ((flags & O_CREAT) !== 0 && (flags & O_EXCL) !== 0) {
    return errPtr(17); // -EEXIST
  }
  if (dentry.inode!.isDir && (flags & O_ACCMODE) !== O_RDONLY) return errPtr(21); // -EISDIR
  if ((flags & O_TRUNC) !== 0 && (flags & O_ACCMODE) !== O_RDONLY) dentry.inode!.size = 0;
  const file = vfs.openFile(dentry, flags);
  vfs.pending = file;
  return file.privateData.obj;
}

function unlinkAt(kernel: SimKernel, name: Ptr): number {
  const path = filenameString(kernel, name);
  const { parent, existing } = kernel.vfs.parentOf(path);
  if (existing?.inode === undefined || parent?.inode === undefined) return -2;
  if (existing.inode.isDir) return -21;
  return kernel.call(kernel.fn("vfs_unlink"), [
    null,
    parent.inode.obj,
    existing.obj,
    null,
  ]) as number;
}

function ksysReadWrite(
  kernel: SimKernel,
  args: readonly KArg[],
  inner: "vfs_read" | "vfs_write",
): KArg {
  const fd = (args[0] as number) | 0;
  const open = fileOf(kernel, fd);
  if (open === undefined) return -9;
  const pos = kernel.stackLocal(8);
  const view = kernel.memory.view;
  view.setInt32(pos, open.pos | 0, true);
  view.setInt32(pos + 4, Math.floor(open.pos / 0x100000000), true);
  const ret = kernel.call(kernel.fn(inner), [open.obj, args[1]!, args[2]!, kptr(pos)]) as number;
  open.pos = view.getUint32(pos + 4, true) * 0x100000000 + view.getUint32(pos, true);
  open.obj.set("f_pos", open.pos);
  return ret;
}

function vfsRead(kernel: SimKernel, args: readonly KArg[]): KArg {
  const open = openFileAt(kernel, args[0]);
  if (open === undefined || !open.readable) return -9;
  const count = args[2] as number;
  if (open.socket !== undefined) return kernel.net.socketRead(open.socket, args[1] as Ptr, count);
  const inode = open.inode!;
  const posPtr = args[3] as Ptr;
  const view = kernel.memory.view;
  const pos =
    view.getUint32((posPtr.lo >>> 0) + 4, true) * 0x100000000 +
    view.getUint32(posPtr.lo >>> 0, true);
  const path = open.dentry!.path;
  const endless = path === "/dev/zero" || path === "/dev/urandom";
  const n = endless ? count : Math.max(0, Math.min(count, inode.size - pos));
  if (n > 0 && open.dentry!.sb.fsType === "ext4" && pos + n > inode.cached) {
    // A page cache miss: read the missing pages from the disk and wait for them.
    const missing = Math.min(pos + n - Math.max(pos, inode.cached), 128 * 1024);
    const disk = path.startsWith("/var/lib/") ? kernel.block.sda : kernel.block.nvme;
    kernel.block.readSync(disk, Math.ceil(missing / 4096) * 4096);
    inode.cached = Math.max(inode.cached, pos + n);
  }
  if (n > 0) {
    const bytes =
      path === "/dev/zero"
        ? new Uint8Array(Math.min(n, COPY_LIMIT))
        : contentBytes(path, pos, Math.min(n, COPY_LIMIT));
    if (!kernel.current().process.user?.write(args[1] as Ptr, bytes)) return -14;
  }
  kernel.clock.advance(n / 8); // ~8 bytes per ns from the page cache
  view.setInt32(posPtr.lo >>> 0, (pos + n) | 0, true);
  view.setInt32((posPtr.lo >>> 0) + 4, Math.floor((pos + n) / 0x100000000), true);
  return n;
}

function vfsWrite(kernel: SimKernel, args: readonly KArg[]): KArg {
  const open = openFileAt(kernel, args[0]);
  if (open === undefined || !open.writable) return -9;
  const count = args[2] as number;
  if (open.socket !== undefined) return kernel.net.socketWrite(open.socket, args[1] as Ptr, count);
  const buf = args[1] as Ptr;
  if (
    count > 0 &&
    kernel.current().process.user?.translate(buf.lo, buf.hi, Math.min(count, COPY_LIMIT)) === -1
  ) {
    return -14;
  }
  const inode = open.inode!;
  const posPtr = args[3] as Ptr;
  const view = kernel.memory.view;
  let pos =
    view.getUint32((posPtr.lo >>> 0) + 4, true) * 0x100000000 +
    view.getUint32(posPtr.lo >>> 0, true);
  if ((open.flags & O_APPEND) !== 0) pos = inode.size;
  const path = open.dentry!.path;
  if (path !== "/dev/null" && pos + count > inode.size) inode.size = pos + count;
  kernel.block.dirty(open, count);
  kernel.clock.advance(count / 4);
  view.setInt32(posPtr.lo >>> 0, (pos + count) | 0, true);
  view.setInt32((posPtr.lo >>> 0) + 4, Math.floor((pos + count) / 0x100000000), true);
  return count;
}
