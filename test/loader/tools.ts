// Shared by test/loader: clang, the libbpf oracle (c/libbpf-load.c, the machine's libbpf loading
// an object into the running kernel) and scratch directories under os.tmpdir().
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(HERE, "fixtures");

const works = (cmd: string, args: string[]): boolean =>
  spawnSync(cmd, args, { stdio: "ignore" }).status === 0;

export const hasClang = works("clang", ["--version"]);
export const hasObjdump = works("llvm-objdump", ["--version"]);
export const hasLibbpf = works("cc", ["--version"]) && existsSync("/usr/include/bpf/libbpf.h");
export const isRoot = process.getuid?.() === 0 && !process.env.TSBPF_NO_KERNEL;

let scratch: string | undefined;
/** This test run's scratch directory (removed at exit). */
export function scratchDir(): string {
  if (scratch === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-loader-"));
    scratch = dir;
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

/** clang -O2 -g -target bpf of fixtures/NAME.bpf.c (or of `source`); the object's bytes. */
export function compile(name: string, source?: string): { path: string; bytes: Uint8Array } {
  const dir = scratchDir();
  let input = join(FIXTURES, `${name}.bpf.c`);
  if (source !== undefined) {
    input = join(dir, `${name}.bpf.c`);
    execFileSync("sh", ["-c", 'cat > "$0"', input], { input: source });
  }
  const out = join(dir, `${name}.bpf.o`);
  execFileSync(
    "clang",
    ["-O2", "-g", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", input, "-o", out],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  return { path: out, bytes: new Uint8Array(readFileSync(out)) };
}

let oracle: string | undefined;

/** What libbpf loaded for an object: maps, array values, prog array slots, programs. */
export interface LibbpfLoad {
  maps: {
    name: string;
    fd: number;
    type: number;
    keySize: number;
    valueSize: number;
    maxEntries: number;
    flags: number;
  }[];
  values: Map<string, string>;
  slots: { map: string; index: number; prog: string }[];
  programs: { name: string; section: string; type: number; insns: Uint8Array }[];
}

export function libbpfLoad(path: string): LibbpfLoad {
  if (oracle === undefined) {
    oracle = join(scratchDir(), "libbpf-load");
    execFileSync("cc", ["-O2", "-o", oracle, join(HERE, "c", "libbpf-load.c"), "-lbpf"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  }
  const r = spawnSync(oracle, [path], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`libbpf-load ${path}: ${r.stdout}${r.stderr}`);
  const result: LibbpfLoad = { maps: [], values: new Map(), slots: [], programs: [] };
  for (const line of r.stdout.trim().split("\n")) {
    const f = line.split(" ");
    if (f[0] === "map")
      result.maps.push({
        name: f[1]!,
        fd: Number(f[2]),
        type: Number(f[3]),
        keySize: Number(f[4]),
        valueSize: Number(f[5]),
        maxEntries: Number(f[6]),
        flags: Number(f[7]),
      });
    else if (f[0] === "value") result.values.set(f[1]!, f[2]!);
    else if (f[0] === "slot") result.slots.push({ map: f[1]!, index: Number(f[2]), prog: f[3]! });
    else if (f[0] === "prog")
      result.programs.push({
        name: f[1]!,
        section: f[2]!,
        type: Number(f[3]),
        insns: Uint8Array.from((f[5] ?? "").match(/../g)?.map((h) => parseInt(h, 16)) ?? []),
      });
  }
  return result;
}

/** llvm-objdump -r: the relocations of each section as [offset, symbol]. */
export function objdumpRelocations(path: string): Map<string, [number, string][]> {
  const out = execFileSync("llvm-objdump", ["-r", path], { encoding: "utf8" });
  const sections = new Map<string, [number, string][]>();
  let current: [number, string][] | undefined;
  for (const line of out.split("\n")) {
    const head = /^RELOCATION RECORDS FOR \[(.*)\]:/.exec(line);
    if (head) {
      current = [];
      sections.set(head[1]!, current);
      continue;
    }
    const rec = /^([0-9a-f]{16})\s+(\S+)\s+(\S+)/.exec(line);
    if (rec && current) current.push([parseInt(rec[1]!, 16), rec[3]!]);
  }
  return sections;
}
