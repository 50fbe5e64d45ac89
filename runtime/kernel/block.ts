// The block layer: two disks (an NVMe SSD and a SATA disk), bios turned into requests and
// completed after a seeded latency in a hardware interrupt, as blk-mq does:
//
//   fsync -> vfs_fsync -> submit_bio -> blk_mq_submit_bio -> __blk_account_io_start,
//            blk_mq_start_request                      ... latency later, in a hardirq:
//   blk_mq_end_request -> __blk_account_io_done, try_to_wake_up(the task waiting in fsync)
//
// Requests carry q (-> disk -> disk_name), part (-> bd_disk, bd_dev), __data_len, __sector,
// cmd_flags, start_time_ns and io_start_time_ns, so biolatency/biosnoop-style programs find
// what they read. The latency distribution is log-uniform per disk, with a seeded slow tail.
import type { KArg } from "./functions.js";
import type { SimKernel } from "./kernel.js";
import { KObject, type Ptr } from "./objects.js";
import type { OpenFile } from "./fs.js";
import type { Task } from "./tasks.js";

export const REQ_OP_READ = 0;
export const REQ_OP_WRITE = 1;
const REQ_SYNC = 1 << 11;
const MQ_RQ_IN_FLIGHT = 1;
const SECTOR_SIZE = 512;
const MAX_BIO_BYTES = 512 * 1024;

export class Disk {
  readonly gendisk: KObject;
  readonly queue: KObject;
  readonly bdev: KObject;
  /** next sector to write sequentially */
  nextSector = 2048;
  requests = 0;
  bytes = 0;

  constructor(
    kernel: SimKernel,
    readonly name: string,
    readonly major: number,
    readonly minor: number,
    /** latency exponents (log2 ns) of ordinary and slow requests */
    readonly latency: {
      min: number;
      max: number;
      slowMin: number;
      slowMax: number;
      slowPer1000: number;
    },
  ) {
    this.gendisk = kernel.newObject("gendisk");
    this.queue = kernel.newObject("request_queue");
    this.bdev = kernel.newObject("block_device");
    const dev = ((major << 20) | minor) >>> 0;
    this.gendisk
      .set("major", major)
      .set("first_minor", minor)
      .set("minors", 16)
      .setString("disk_name", name)
      .set("part0", this.bdev)
      .set("queue", this.queue);
    this.queue
      .set("disk", this.gendisk)
      .set("queue_depth", 64)
      .set("nr_hw_queues", 1)
      .set("id", minor);
    this.bdev
      .set("bd_dev", dev)
      .set("bd_disk", this.gendisk)
      .set("bd_nr_sectors", 1 << 30)
      .set("bd_partno", 0);
  }
}

interface Pending {
  rq: KObject;
  due: number;
  cpu: number;
  disk: Disk;
  bytes: number;
  op: number;
  waiter: Task | undefined;
}

export class Block {
  readonly nvme: Disk;
  readonly sda: Disk;
  readonly disks: Disk[];
  private pending: Pending[] = [];
  private readonly dirtyBytes = new Map<OpenFile, number>();
  private nextTag = 0;
  /** completed requests: latency in ns, for summaries */
  readonly completed: { disk: string; op: number; bytes: number; latencyNs: number }[] = [];

  constructor(private readonly kernel: SimKernel) {
    this.nvme = new Disk(kernel, "nvme0n1", 259, 0, {
      min: 14,
      max: 17,
      slowMin: 20,
      slowMax: 23,
      slowPer1000: 20,
    });
    this.sda = new Disk(kernel, "sda", 8, 0, {
      min: 19,
      max: 22,
      slowMin: 23,
      slowMax: 25,
      slowPer1000: 30,
    });
    this.disks = [this.nvme, this.sda];
  }

  boot(): void {}

  /** A write made `count` bytes of a file dirty (only files on the disk-backed root fs count). */
  dirty(open: OpenFile, count: number): void {
    if (open.dentry?.sb.fsType !== "ext4") return;
    this.dirtyBytes.set(open, (this.dirtyBytes.get(open) ?? 0) + count);
  }

  /**
   * vfs_fsync(): submit the file's dirty bytes as write bios and wait for them: the task sleeps
   * until the last completion wakes it. Returns 0.
   */
  writeback(open: OpenFile): number {
    const bytes = this.dirtyBytes.get(open) ?? 0;
    this.dirtyBytes.delete(open);
    if (bytes === 0) return 0;
    const task = this.kernel.current();
    let last: Pending | undefined;
    for (let done = 0; done < bytes; done += MAX_BIO_BYTES) {
      last = this.submit(
        this.nvme,
        REQ_OP_WRITE | REQ_SYNC,
        Math.min(MAX_BIO_BYTES, bytes - done),
        undefined,
      );
    }
    if (last !== undefined) last.waiter = task;
    this.waitFor(last);
    return 0;
  }

  /** A read of `bytes` from `disk` by the current task, waiting for it (a page cache miss). */
  readSync(disk: Disk, bytes: number): void {
    const p = this.submit(disk, REQ_OP_READ, bytes, this.kernel.current());
    this.waitFor(p);
  }

  /** Submit one bio through submit_bio() on the executing CPU. */
  submit(disk: Disk, opf: number, bytes: number, waiter: Task | undefined): Pending {
    const k = this.kernel;
    const bio = k.stackObject("bio");
    const sectors = Math.ceil(bytes / SECTOR_SIZE);
    bio
      .set("bi_bdev", disk.bdev)
      .set("bi_opf", opf)
      .set("bi_iter.bi_sector", disk.nextSector)
      .set("bi_iter.bi_size", bytes);
    disk.nextSector += sectors;
    this.submitting = { disk, waiter, result: undefined };
    k.call(k.fn("submit_bio"), [bio]);
    const p = this.submitting.result!;
    this.submitting = undefined;
    return p;
  }

  private submitting:
    { disk: Disk; waiter: Task | undefined; result: Pending | undefined } | undefined;

  /** blk_mq_submit_bio's work: a request from the bio, accounted, started on the device. */
  makeRequest(bio: Ptr): Pending {
    const k = this.kernel;
    const b = KObject.of(k.memory, "bio", bio.lo >>> 0);
    const s = this.submitting!;
    const disk = s.disk;
    const rq = k.newObject("request");
    const opf = b.get("bi_opf");
    const bytes = b.get("bi_iter.bi_size");
    rq.set("q", disk.queue)
      .set("cmd_flags", opf)
      .set("tag", this.nextTag++ % 64)
      .set("internal_tag", -1)
      .set("timeout", 30_000)
      .set("__data_len", bytes)
      .set("__sector", b.get("bi_iter.bi_sector"))
      .set("part", disk.bdev)
      .set("alloc_time_ns", k.clock.ns)
      .set("start_time_ns", k.clock.ns)
      .set("stats_sectors", Math.ceil(bytes / SECTOR_SIZE))
      .set("nr_phys_segments", Math.ceil(bytes / 4096))
      .set("ref.counter", 1);
    rq.set("queuelist.next", rq.addressOf("queuelist")).set(
      "queuelist.prev",
      rq.addressOf("queuelist"),
    );
    k.call(k.fn("__blk_account_io_start"), [rq]);
    k.call(k.fn("blk_mq_start_request"), [rq]);
    const latency = this.latency(disk);
    const p: Pending = {
      rq,
      due: k.clock.ns + latency,
      cpu: k.cpu.id,
      disk,
      bytes,
      op: opf & 0xff,
      waiter: s.waiter,
    };
    this.insert(p);
    s.result = p;
    return p;
  }

  private latency(disk: Disk): number {
    const r = this.kernel.random;
    const l = disk.latency;
    return r.below(1000) < l.slowPer1000
      ? r.logUniform(l.slowMin, l.slowMax)
      : r.logUniform(l.min, l.max);
  }

  private insert(p: Pending): void {
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1]!.due > p.due) i--;
    this.pending.splice(i, 0, p);
  }

  /** Requests still in flight. */
  get inFlight(): number {
    return this.pending.length;
  }

  /**
   * Let `ns` of idle time pass: each request due in that time completes at its due time, in a
   * hardirq of its CPU.
   */
  idle(ns: number): void {
    const k = this.kernel;
    const target = k.clock.ns + Math.round(ns);
    while (this.pending.length > 0 && this.pending[0]!.due <= target) {
      const p = this.pending.shift()!;
      if (p.due > k.clock.ns) k.clock.ns = p.due;
      this.complete(p);
    }
    if (target > k.clock.ns) k.clock.ns = target;
  }

  /** Complete every request due by now, in due order, each in a hardirq of its CPU. */
  completeDue(): void {
    const k = this.kernel;
    while (this.pending.length > 0 && this.pending[0]!.due <= k.clock.ns) {
      this.complete(this.pending.shift()!);
    }
  }

  /** Let time pass until `p` completes (completing everything due on the way). */
  private waitFor(p: Pending | undefined): void {
    if (p === undefined) return;
    const k = this.kernel;
    const task = p.waiter;
    if (task !== undefined) k.sched.sleep(task);
    while (this.pending.includes(p)) {
      const next = this.pending[0]!;
      if (next.due > k.clock.ns) k.clock.ns = next.due;
      this.complete(this.pending.shift()!);
    }
  }

  private complete(p: Pending): void {
    const k = this.kernel;
    const latencyNs = k.clock.ns - p.rq.get("start_time_ns");
    k.interrupt(p.cpu, "hardirq", () => {
      k.call(k.fn("blk_mq_end_request"), [p.rq, 0]);
      if (p.waiter !== undefined) k.call(k.fn("try_to_wake_up"), [p.waiter.obj, 3, 0]);
    });
    if (p.waiter !== undefined) k.runOn(p.waiter.cpu, p.waiter, () => undefined);
    p.disk.requests++;
    p.disk.bytes += p.bytes;
    this.completed.push({ disk: p.disk.name, op: p.op, bytes: p.bytes, latencyNs });
    k.freeObject(p.rq);
  }
}

export function registerBlock(k: SimKernel): void {
  const def = k.defineFunction.bind(k);
  def({
    proto: "void submit_bio(struct bio *bio)",
    cost: 300,
    size: 0x60,
    body: (kernel, args) => kernel.call(kernel.fn("blk_mq_submit_bio"), [args[0]!]),
  });
  def({
    proto: "void blk_mq_submit_bio(struct bio *bio)",
    cost: 1_200,
    size: 0x5c0,
    body: (kernel, args) => {
      kernel.block.makeRequest(args[0] as Ptr);
      return null;
    },
  });
  def({
    proto: "void __blk_account_io_start(struct request *rq)",
    cost: 80,
    size: 0x110,
    body: () => null,
  });
  def({
    proto: "void blk_mq_start_request(struct request *rq)",
    cost: 150,
    size: 0x130,
    body: (kernel, args) => {
      const rq = KObject.of(kernel.memory, "request", (args[0] as Ptr).lo >>> 0);
      rq.set("io_start_time_ns", kernel.clock.ns).set("state", MQ_RQ_IN_FLIGHT);
      rq.set("deadline", kernel.clock.jiffies + 30 * 250);
      return null;
    },
  });
  def({
    proto: "void blk_mq_end_request(struct request *rq, blk_status_t error)",
    cost: 400,
    size: 0x120,
    body: (kernel, args) =>
      kernel.call(kernel.fn("__blk_account_io_done"), [args[0]!, kernel.clock.ns]),
  });
  def({
    proto: "void __blk_account_io_done(struct request *req, u64 now)",
    cost: 100,
    size: 0x160,
    body: (_kernel, _args: readonly KArg[]) => null,
  });
}
