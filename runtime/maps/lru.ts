// The free/active/inactive lists behind BPF_MAP_TYPE_LRU_HASH and LRU_PERCPU_HASH, modelled on
// the kernel's kernel/bpf/bpf_lru_list.c, so a user sees the kernel's evictions: which keys go
// and how many at once.
//
// What the kernel does (and this file does, list by list and in the same order):
// - Every element is a node on exactly one list. A common LRU (the default) has one global list
//   set (active, inactive, free) plus, per CPU, a local free list and a local pending list. With
//   BPF_F_NO_COMMON_LRU each CPU has its own list set and nothing is shared.
// - Taking a node for a new element (pop_free) on a common LRU takes the CPU's local free list
//   first. When that is empty it refills it: the pending nodes (elements this CPU created) are
//   flushed to the global active (referenced) or inactive list, the lists are rotated, and up to
//   `targetFree` nodes move from the global free list; if the global free list runs short, the
//   inactive list is shrunk from its tail - the least recently used elements are evicted, a
//   batch of them at once. Only when even that yields nothing does the CPU steal a free or
//   pending node from the CPUs' local lists, round robin.
// - A program's lookup sets the node's ref bit; rotation gives referenced nodes another round on
//   the active list; an unreferenced node at the inactive tail is the next to go.
// - targetFree is clamp(max_entries / possible CPUs / 2, 1, 128) since Linux 6.16 (it was 128);
//   test/maps/kernel.test.ts checks the batch sizes against the running kernel.
//
// Exact: with one caller at a time (the simulated kernel runs one program or syscall at a time)
// the lists evolve exactly as the kernel's. Not modelled: concurrent CPUs racing for the locks.
//
// Lists are intrusive doubly linked lists over node indices: nodes 0..n-1 are elements, the list
// heads are sentinel indices after them. The hash table owns the elements; the LRU asks it to
// unlink an element it evicts through `deleteFromHtab`.

/** enum bpf_lru_list_type */
export const BPF_LRU_LIST_T_ACTIVE = 0;
export const BPF_LRU_LIST_T_INACTIVE = 1;
export const BPF_LRU_LIST_T_FREE = 2;
export const BPF_LRU_LOCAL_LIST_T_FREE = 3;
export const BPF_LRU_LOCAL_LIST_T_PENDING = 4;

/** LOCAL_FREE_TARGET / LOCAL_NR_SCANS: the common LRU's refill batch cap and scan budget. */
export const LOCAL_FREE_TARGET = 128;
const LOCAL_NR_SCANS = LOCAL_FREE_TARGET;
/** PERCPU_FREE_TARGET / PERCPU_NR_SCANS for BPF_F_NO_COMMON_LRU. */
export const PERCPU_FREE_TARGET = 4;
const PERCPU_NR_SCANS = PERCPU_FREE_TARGET;

/** One list set: active, inactive and free heads, their counts and the rotation cursor. */
interface LruList {
  /** sentinel index of the active head; inactive = +1, free = +2 */
  head: number;
  /** counts[ACTIVE], counts[INACTIVE] */
  counts: [number, number];
  /** l->next_inactive_rotation: a node of the inactive list, or its head */
  nextInactiveRotation: number;
}

/** A CPU's local lists of a common LRU. */
interface LocalList {
  freeHead: number;
  pendingHead: number;
  nextSteal: number;
}

export class BpfLru {
  /** type and ref of each node, as struct bpf_lru_node has them */
  readonly type: Uint8Array;
  readonly ref: Uint8Array;
  /** the CPU whose local (or per-CPU) list holds the node */
  readonly cpu: Uint16Array;
  /** nodes moved to a free list per refill (common LRU) */
  readonly targetFree: number;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly nrScans: number;
  private readonly global: LruList | undefined;
  private readonly local: LocalList[] = [];
  private readonly percpuLists: LruList[] = [];

  constructor(
    /** number of nodes (= elements, max_entries) */
    readonly nodes: number,
    readonly possibleCpus: number,
    /** BPF_F_NO_COMMON_LRU: a list set per CPU */
    readonly percpu: boolean,
    /** htab_lru_map_delete_node(): unlink node's element from the table; false if it is not there */
    private readonly deleteFromHtab: (node: number) => boolean,
  ) {
    const sentinels = percpu ? 3 * possibleCpus : 3 + 2 * possibleCpus;
    this.prev = new Int32Array(nodes + sentinels);
    this.next = new Int32Array(nodes + sentinels);
    this.type = new Uint8Array(nodes);
    this.ref = new Uint8Array(nodes);
    this.cpu = new Uint16Array(nodes);
    let sentinel = nodes;
    const newList = (): LruList => {
      const list: LruList = { head: sentinel, counts: [0, 0], nextInactiveRotation: sentinel + 1 };
      for (let i = 0; i < 3; i++) this.init(sentinel++);
      return list;
    };
    if (percpu) {
      this.nrScans = PERCPU_NR_SCANS;
      this.targetFree = PERCPU_FREE_TARGET;
      for (let c = 0; c < possibleCpus; c++) this.percpuLists.push(newList());
      this.global = undefined;
      this.populatePercpu();
    } else {
      this.nrScans = LOCAL_NR_SCANS;
      this.global = newList();
      for (let c = 0; c < possibleCpus; c++) {
        this.local.push({ freeHead: sentinel, pendingHead: sentinel + 1, nextSteal: c });
        this.init(sentinel++);
        this.init(sentinel++);
      }
      this.targetFree = Math.min(
        LOCAL_FREE_TARGET,
        Math.max(1, Math.floor(nodes / possibleCpus / 2)),
      );
      this.populateCommon();
    }
  }

  /** bpf_lru_node_set_ref() */
  setRef(node: number): void {
    this.ref[node] = 1;
  }

  /** bpf_lru_pop_free(): a node for a new element on `cpu` (evicting if need be), or -1. */
  popFree(cpu: number): number {
    return this.percpu ? this.percpuPopFree(cpu) : this.commonPopFree(cpu);
  }

  /** bpf_lru_push_free(): the node's element is gone; make the node free again. */
  pushFree(node: number): void {
    const type = this.type[node]!;
    if (type === BPF_LRU_LIST_T_FREE || type === BPF_LRU_LOCAL_LIST_T_FREE) return;
    if (this.percpu) {
      this.move(this.percpuLists[this.cpu[node]!]!, node, BPF_LRU_LIST_T_FREE);
      return;
    }
    if (type === BPF_LRU_LOCAL_LIST_T_PENDING) {
      this.type[node] = BPF_LRU_LOCAL_LIST_T_FREE;
      this.ref[node] = 0;
      this.listMove(node, this.local[this.cpu[node]!]!.freeHead);
      return;
    }
    this.move(this.global!, node, BPF_LRU_LIST_T_FREE);
  }

  /** The nodes of one list from head to tail (for tests and debugging). */
  listNodes(listType: number, cpu = 0): number[] {
    let head: number;
    if (listType === BPF_LRU_LOCAL_LIST_T_FREE) head = this.local[cpu]!.freeHead;
    else if (listType === BPF_LRU_LOCAL_LIST_T_PENDING) head = this.local[cpu]!.pendingHead;
    else head = (this.percpu ? this.percpuLists[cpu]! : this.global!).head + listType;
    const out: number[] = [];
    for (let n = this.next[head]!; n !== head; n = this.next[n]!) out.push(n);
    return out;
  }

  // ---- population ----

  /** bpf_common_lru_populate(): every node on the global free list (the last node first). */
  private populateCommon(): void {
    const freeHead = this.global!.head + BPF_LRU_LIST_T_FREE;
    for (let node = 0; node < this.nodes; node++) {
      this.type[node] = BPF_LRU_LIST_T_FREE;
      this.listAdd(node, freeHead);
    }
  }

  /** bpf_percpu_lru_populate(): an equal run of nodes to each CPU's free list. */
  private populatePercpu(): void {
    const perCpu = Math.floor(this.nodes / this.possibleCpus);
    for (let node = 0; node < this.nodes; node++) {
      const cpu = Math.min(Math.floor(node / perCpu), this.possibleCpus - 1);
      this.cpu[node] = cpu;
      this.type[node] = BPF_LRU_LIST_T_FREE;
      this.listAdd(node, this.percpuLists[cpu]!.head + BPF_LRU_LIST_T_FREE);
    }
  }

  // ---- pop ----

  private percpuPopFree(cpu: number): number {
    const l = this.percpuLists[cpu]!;
    const freeHead = l.head + BPF_LRU_LIST_T_FREE;
    this.rotate(l);
    if (this.listEmpty(freeHead)) this.shrink(l, PERCPU_FREE_TARGET, freeHead, BPF_LRU_LIST_T_FREE);
    if (this.listEmpty(freeHead)) return -1;
    const node = this.next[freeHead]!;
    this.ref[node] = 0;
    this.move(l, node, BPF_LRU_LIST_T_INACTIVE);
    return node;
  }

  private commonPopFree(cpu: number): number {
    const loc = this.local[cpu]!;
    let node = this.localPopFree(loc);
    if (node < 0) {
      this.popFreeToLocal(loc);
      node = this.localPopFree(loc);
    }
    if (node >= 0) {
      this.addPending(loc, cpu, node);
      return node;
    }
    // Nothing free anywhere global: steal a free or pending node from the CPUs in turn.
    const firstSteal = loc.nextSteal;
    let steal = firstSteal;
    do {
      const victim = this.local[steal]!;
      node = this.localPopFree(victim);
      if (node < 0) node = this.localPopPending(victim);
      steal = (steal + 1) % this.possibleCpus;
    } while (node < 0 && steal !== firstSteal);
    loc.nextSteal = steal;
    if (node >= 0) this.addPending(loc, cpu, node);
    return node;
  }

  /** bpf_lru_list_pop_free_to_local(): refill a CPU's local free list from the global lists. */
  private popFreeToLocal(loc: LocalList): void {
    const l = this.global!;
    this.flushPending(l, loc);
    this.rotate(l);
    const freeHead = l.head + BPF_LRU_LIST_T_FREE;
    let moved = 0;
    for (let node = this.next[freeHead]!; node !== freeHead && moved < this.targetFree;) {
      const following = this.next[node]!;
      this.moveToFree(l, node, loc.freeHead, BPF_LRU_LOCAL_LIST_T_FREE);
      moved++;
      node = following;
    }
    if (moved < this.targetFree) {
      this.shrink(l, this.targetFree - moved, loc.freeHead, BPF_LRU_LOCAL_LIST_T_FREE);
    }
  }

  /** __local_list_flush(): pending nodes, oldest first, to the global active/inactive list. */
  private flushPending(l: LruList, loc: LocalList): void {
    const head = loc.pendingHead;
    for (let node = this.prev[head]!; node !== head;) {
      const older = this.prev[node]!;
      this.moveIn(l, node, this.ref[node] ? BPF_LRU_LIST_T_ACTIVE : BPF_LRU_LIST_T_INACTIVE);
      node = older;
    }
  }

  private localPopFree(loc: LocalList): number {
    const node = this.next[loc.freeHead]!;
    if (node === loc.freeHead) return -1;
    this.listDel(node);
    return node;
  }

  /** __local_list_pop_pending(): the oldest unreferenced pending node, else the oldest. */
  private localPopPending(loc: LocalList): number {
    const head = loc.pendingHead;
    for (let force = 0; force < 2; force++) {
      for (let node = this.prev[head]!; node !== head; node = this.prev[node]!) {
        if ((force || !this.ref[node]) && this.deleteFromHtab(node)) {
          this.listDel(node);
          return node;
        }
      }
    }
    return -1;
  }

  private addPending(loc: LocalList, cpu: number, node: number): void {
    this.cpu[node] = cpu;
    this.type[node] = BPF_LRU_LOCAL_LIST_T_PENDING;
    this.ref[node] = 0;
    this.listAdd(node, loc.pendingHead);
  }

  // ---- rotation and shrinking ----

  /** Rotate the active list when the inactive one is smaller, then the inactive list. */
  private rotate(l: LruList): void {
    if (l.counts[BPF_LRU_LIST_T_INACTIVE] < l.counts[BPF_LRU_LIST_T_ACTIVE]) this.rotateActive(l);
    this.rotateInactive(l);
  }

  /**
   * From the active tail: referenced nodes go back to the active head (ref cleared), the others
   * to the inactive head; at most nrScans nodes, and never past the node that was first.
   */
  private rotateActive(l: LruList): void {
    const head = l.head + BPF_LRU_LIST_T_ACTIVE;
    const first = this.next[head]!;
    let scanned = 0;
    for (let node = this.prev[head]!; node !== head;) {
      const older = this.prev[node]!;
      this.move(l, node, this.ref[node] ? BPF_LRU_LIST_T_ACTIVE : BPF_LRU_LIST_T_INACTIVE);
      if (++scanned === this.nrScans || node === first) break;
      node = older;
    }
  }

  /**
   * From the rotation cursor towards the head (wrapping past the head): referenced nodes move
   * to the active list, the others stay put; the cursor remembers where the scan stopped.
   */
  private rotateInactive(l: LruList): void {
    const head = l.head + BPF_LRU_LIST_T_INACTIVE;
    if (this.listEmpty(head)) return;
    let last = this.next[l.nextInactiveRotation]!;
    if (last === head) last = this.next[last]!;
    let cur = l.nextInactiveRotation;
    let following = head;
    let scanned = 0;
    while (scanned < this.nrScans) {
      if (cur === head) {
        cur = this.prev[cur]!;
        continue;
      }
      following = this.prev[cur]!;
      if (this.ref[cur]) this.move(l, cur, BPF_LRU_LIST_T_ACTIVE);
      if (cur === last) break;
      cur = following;
      scanned++;
    }
    l.nextInactiveRotation = following;
  }

  /** From the inactive tail: evict unreferenced nodes to `freeHead`, up to `target`. */
  private shrinkInactive(l: LruList, target: number, freeHead: number, freeType: number): number {
    const head = l.head + BPF_LRU_LIST_T_INACTIVE;
    let shrunk = 0;
    let scanned = 0;
    for (let node = this.prev[head]!; node !== head;) {
      const older = this.prev[node]!;
      if (this.ref[node]) {
        this.move(l, node, BPF_LRU_LIST_T_ACTIVE);
      } else if (this.deleteFromHtab(node)) {
        this.moveToFree(l, node, freeHead, freeType);
        if (++shrunk === target) break;
      }
      if (++scanned === this.nrScans) break;
      node = older;
    }
    return shrunk;
  }

  /** __bpf_lru_list_shrink(): shrink the inactive list; failing that, evict one node regardless. */
  private shrink(l: LruList, target: number, freeHead: number, freeType: number): number {
    const shrunk = this.shrinkInactive(l, target, freeHead, freeType);
    if (shrunk > 0) return shrunk;
    const inactive = l.head + BPF_LRU_LIST_T_INACTIVE;
    const forced = this.listEmpty(inactive) ? l.head + BPF_LRU_LIST_T_ACTIVE : inactive;
    for (let node = this.prev[forced]!; node !== forced;) {
      const older = this.prev[node]!;
      if (this.deleteFromHtab(node)) {
        this.moveToFree(l, node, freeHead, freeType);
        return 1;
      }
      node = older;
    }
    return 0;
  }

  // ---- node moves (the kernel's __bpf_lru_node_move*) ----

  /** Between or within the active and inactive lists (and to the free list): ref cleared. */
  private move(l: LruList, node: number, target: number): void {
    const type = this.type[node]!;
    if (type !== target) {
      if (type < 2) l.counts[type as 0 | 1]--;
      if (target < 2) l.counts[target as 0 | 1]++;
      this.type[node] = target;
    }
    this.ref[node] = 0;
    if (node === l.nextInactiveRotation) l.nextInactiveRotation = this.prev[node]!;
    this.listMove(node, l.head + target);
  }

  /** From a local list into the global active/inactive list. */
  private moveIn(l: LruList, node: number, target: number): void {
    l.counts[target as 0 | 1]++;
    this.type[node] = target;
    this.ref[node] = 0;
    this.listMove(node, l.head + target);
  }

  /** Out of the list set onto a free list (global or local). */
  private moveToFree(l: LruList, node: number, freeHead: number, freeType: number): void {
    if (node === l.nextInactiveRotation) l.nextInactiveRotation = this.prev[node]!;
    const type = this.type[node]!;
    if (type < 2) l.counts[type as 0 | 1]--;
    this.type[node] = freeType;
    this.listMove(node, freeHead);
  }

  // ---- list primitives ----

  private init(head: number): void {
    this.prev[head] = head;
    this.next[head] = head;
  }

  private listEmpty(head: number): boolean {
    return this.next[head] === head;
  }

  private listDel(node: number): void {
    const p = this.prev[node]!;
    const n = this.next[node]!;
    this.next[p] = n;
    this.prev[n] = p;
  }

  /** Insert after `head` (list_add). */
  private listAdd(node: number, head: number): void {
    const first = this.next[head]!;
    this.prev[node] = head;
    this.next[node] = first;
    this.prev[first] = node;
    this.next[head] = node;
  }

  private listMove(node: number, head: number): void {
    this.listDel(node);
    this.listAdd(node, head);
  }
}
