import { describe, expect, it } from "vitest";
import { NR } from "../runtime/kernel/syscalls.js";
import { syscallDispatch } from "./syscall_dispatch.js";
import {
  clangAndTsbpfRuns,
  HAS_CLANG,
  runFresh,
  comparable,
  HAS_LIBBPF_HEADERS,
} from "./lib/testing.js";

describe.skipIf(!HAS_LIBBPF_HEADERS)("syscall_dispatch", () => {
  it("counts each system call in its handler, or as unhandled, as often as the kernel ran it", async () => {
    const run = await runFresh(syscallDispatch, { seed: 13 });
    const { syscalls, table } = run.result;
    const handlers = new Map(table.map((s) => [s.nr, s.handler]));
    expect([...handlers]).toEqual([
      [NR.read, "sys_read"],
      [NR.write, "sys_write"],
      [NR.close, "sys_close"],
      [NR.socket, "sys_socket"],
      [NR.connect, "sys_connect"],
      [NR.sendto, "sys_sendto"],
      [NR.exit_group, "sys_exit_group"],
      [NR.openat, "sys_openat"],
    ]);
    const counted = Object.fromEntries(syscalls.map((s) => [s.name, s.calls]));
    expect(counted).toEqual(run.summary.syscalls);
    for (const s of syscalls) expect([s.name, s.handled]).toEqual([s.name, handlers.has(s.nr)]);
    expect(syscalls.some((s) => !s.handled)).toBe(true);
    // openat's handler counted the files opened with O_CREAT
    expect(syscalls.find((s) => s.name === "openat")!.extra).toBe(run.summary.files!.creates);
    expect(run.report).toMatch(/openat\s+257\s+\d+\s+table/);
  });

  it.skipIf(!HAS_CLANG)(
    "gives the same `tsbpf run --json` output built by clang and by tsbpf",
    async () => {
      const runs = await clangAndTsbpfRuns(syscallDispatch);
      expect([...runs.tsbpfMaps].sort()).toEqual([...runs.clangMaps].sort());
      const { clang, tsbpf } = comparable(runs);
      expect(tsbpf).toEqual(clang);
    },
  );
});
