// CO-RE against the simulated kernel: a program clang built against the *real* kernel's
// vmlinux.h (offsets of a 6.18 kernel) is relocated by the loader against the simulated
// kernel's BTF, and then reads the right fields when it runs on kprobes: the same maps as the
// same source built against the simulated kernel's own header (no relocation needed), and the
// values the kernel itself holds (tasks, parents, uids, file names and inodes).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BpfObject } from "../../runtime/api/index.js";
import { parseBtf } from "../../runtime/btf/parse.js";
import { btfToC } from "../../runtime/core/btf-to-c.js";
import { relocateObjectCore } from "../../runtime/core/index.js";
import { kernelBtf } from "../../runtime/kernel/btf.js";
import { SimKernel } from "../../runtime/kernel/kernel.js";
import { fieldOf } from "../../runtime/kernel/layout.js";
import { kernelStruct } from "../../runtime/kernel/vmlinux.js";
import { runWorkload } from "../../runtime/kernel/workload.js";
import { openObject } from "../../runtime/object/open.js";
import {
  compileFixture,
  hasClang,
  hasVmlinuxBtf,
  skipReason,
  vmlinuxDir,
  VMLINUX_BTF,
} from "./tools.js";

const skip = skipReason({ clang: hasClang, "/sys/kernel/btf/vmlinux": hasVmlinuxBtf });
if (skip) console.log(`test/core/sim-run: skipped: ${skip}`);

type Entry = { key: unknown; value: Record<string, unknown> };

describe.skipIf(skip !== undefined)("a program built against the real vmlinux.h", () => {
  const real = (): string =>
    vmlinuxDir("real", btfToC(parseBtf(new Uint8Array(readFileSync(VMLINUX_BTF)))));
  let realDir: string | undefined;
  const realObject = (name: string): { path: string; bytes: Uint8Array } =>
    compileFixture(name, (realDir ??= real()), [], `${name}-realhdr`);

  it("is relocated to the simulated kernel's layouts", () => {
    for (const name of ["task", "file", "net", "block", "snoop"]) {
      const { path, bytes } = realObject(name);
      const core = relocateObjectCore(openObject(bytes, path), kernelBtf());
      let checked = 0;
      for (const r of core.results) {
        if (r.kindName !== "byte_off" || r.targetSpec === undefined) continue;
        const m = /^<byte_off> \[\d+\] (struct|union) (\w+)((?:\.\w+|\[\d+\])+) \(/.exec(
          r.targetSpec,
        );
        if (m === null) continue; // the root itself (&p[0]) or an unnamed path
        const field = fieldOf(kernelStruct(m[2]!), m[3]!.slice(1));
        // a bit-field's offset is that of the load unit holding it
        if (field.bitSize !== 0) continue;
        expect(r.newValue, `${name}: ${r.targetSpec}`).toBe(field.offset);
        checked++;
      }
      expect(checked, name).toBeGreaterThan(5);
    }
  });

  it("fails to load on a reached poisoned instruction, naming the field and the type", () => {
    const kernel = new SimKernel();
    const poison = realObject("poison");
    let message = "";
    try {
      BpfObject.fromBytes(poison.bytes, "poison.bpf.o").load(kernel);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/program 'missing_field'.*invalid func unknown#195896080/);
    expect(message).toMatch(
      /failed to resolve CO-RE relocation <byte_off> \[\d+\] struct task_struct___gone\.field_that_never_was .*field 'field_that_never_was' of struct task_struct___gone is not in the target BTF/,
    );
  });

  // The real kernel loads these (test/core/libbpf.test.ts): the poisoned instructions sit in
  // branches a known constant never takes (if (bpf_core_field_exists(...)), if
  // (bpf_core_field_size(...) == 4)). The simulated kernel's verifier, like the kernel's, never
  // reaches them, so the poisoned calls do not matter.
  it("loads programs whose poisoned instructions are in never-taken branches", () => {
    const kernel = new SimKernel();
    for (const name of ["task", "direct"]) {
      const built = realObject(name);
      BpfObject.fromBytes(built.bytes, `${name}.bpf.o`).load(kernel).close();
    }
  });

  it("reads on the simulated kernel what the kernel holds, as the sim-built program does", () => {
    const kernel = new SimKernel({ seed: 7 });
    const simDir = vmlinuxDir("sim", btfToC(kernelBtf()));
    const built = {
      real: realObject("snoop"),
      sim: compileFixture("snoop", simDir, [], "snoop-simhdr"),
    };
    const objects = {
      real: BpfObject.fromBytes(built.real.bytes, "snoop-real.bpf.o").load(kernel),
      sim: BpfObject.fromBytes(built.sim.bytes, "snoop-sim.bpf.o").load(kernel),
    };
    objects.real.attachAll();
    objects.sim.attachAll();
    runWorkload(kernel, "mixed", { events: 1500 });
    const dump = (which: "real" | "sim", map: string): Entry[] =>
      objects[which].map(map).dump() as Entry[];

    for (const map of ["readers", "files", "socks", "requests"]) {
      const entries = dump("real", map);
      expect(entries.length, map).toBeGreaterThan(0);
      expect(entries, map).toEqual(dump("sim", map));
    }

    // tasks: pid, tgid, parent, uid and comm as the kernel has them
    let tasks = 0;
    for (const { key, value } of dump("real", "readers")) {
      const task = kernel.tasks.get(Number(key));
      if (task === undefined) continue; // exited since
      expect(value.pid).toBe(task.pid);
      expect(value.tgid).toBe(task.tgid);
      const parent = task.parent;
      // (a parent that exited since may have been replaced by a reaper)
      if (parent !== undefined && kernel.tasks.get(parent.pid) !== undefined)
        expect(value.ppid).toBe(parent.tgid);
      expect(value.uid).toBe(task.uid);
      expect(value.comm).toBe(task.comm);
      tasks++;
    }
    expect(tasks).toBeGreaterThan(0);

    // files: every inode read that still has a dentry has it under that name and parent
    // (files unlinked since are gone from the dentry cache, their names freed)
    const dentries = [...kernel.vfs.dentries.values()];
    let files = 0;
    for (const { key, value } of dump("real", "files")) {
      const live = dentries.filter((d) => d.inode !== undefined && d.inode.ino === Number(key));
      if (live.length === 0) continue;
      const named = live.filter((d) => d.name === value.name);
      expect(named.length, `inode ${String(key)} '${String(value.name)}'`).toBeGreaterThan(0);
      expect(named.map((d) => (d.parent ?? d).name)).toContain(value.parent);
      expect(value.name_len).toBe(String(value.name).length);
      files++;
    }
    expect(files).toBeGreaterThan(0);

    // sockets and requests: plausible values (and equal to the sim-built program's above)
    for (const { value } of dump("real", "socks")) {
      expect(value.family).toBe(2); // AF_INET
      expect(value.daddr).not.toBe(0);
      expect(value.num).toBeGreaterThan(0);
    }
    for (const { value } of dump("real", "requests")) {
      expect(value.len).toBeGreaterThan(0);
      expect(String(value.disk)).toMatch(/^[a-z]+\w*$/);
    }

    objects.real.close();
    objects.sim.close();
  });
});
