// Asks clang -target bpf for the layout facts of C declarations: one compile per batch.
// The answers are 64-bit constants in a struct in .data, read back from the ELF object,
// so clang's own constant evaluator (sizeof, _Alignof, __builtin_offsetof) is the oracle.
// Bit-field positions come from the BTF clang writes with -g (bpftool's JSON dump), which
// records clang's own layout; constant initialisers of packed bit-fields are not reliable.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const hasClang = spawnSync("clang", ["--version"]).status === 0;
export const hasBpftool = spawnSync("bpftool", ["version"]).status === 0;

export interface OracleQuery {
  // C declarations needed by the expressions (struct definitions, typedefs...).
  declarations: string;
  // Integer constant expressions, answered as unsigned 64-bit numbers (as bigint).
  expressions: string[];
  // Bit-field probes: `type` is the record type ('struct s'), `member` a named bit-field.
  bitfields?: { type: string; member: string }[];
  clangArgs?: string[];
}

export interface BitfieldAnswer {
  bitOffset: number;
  bitWidth: number;
}

export interface OracleAnswers {
  values: bigint[];
  bitfields: BitfieldAnswer[];
}

export function askClang(q: OracleQuery): OracleAnswers {
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-layout-"));
  try {
    const probes = q.bitfields ?? [];
    const probedTypes = [...new Set(probes.map((p) => p.type))];
    const lines = [
      q.declarations,
      "struct tsbpf_oracle {",
      `  unsigned long long answers[${Math.max(1, q.expressions.length)}];`,
    ];
    lines.push("};");
    // A variable of each probed record makes clang describe it in BTF.
    probedTypes.forEach((t, i) => lines.push(`${t} tsbpf_probe${i};`));
    lines.push("struct tsbpf_oracle tsbpf_oracle = {");
    lines.push(
      "  { " +
        (q.expressions.length
          ? q.expressions.map((e) => `(unsigned long long)(${e})`).join(",\n    ")
          : "0") +
        " },",
    );
    lines.push("};");
    const src = join(dir, "oracle.c");
    const obj = join(dir, "oracle.o");
    writeFileSync(src, lines.join("\n") + "\n");
    execFileSync(
      "clang",
      ["-target", "bpf", "-O2", "-g", "-c", "-w", ...(q.clangArgs ?? []), "-o", obj, src],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    const elf = readFileSync(obj);
    const data = symbolBytes(elf, "tsbpf_oracle");
    const values: bigint[] = [];
    for (let i = 0; i < q.expressions.length; i++) values.push(data.readBigUInt64LE(i * 8));
    let bitfields: BitfieldAnswer[] = [];
    if (probes.length) {
      const btf = new BtfIndex(
        execFileSync("bpftool", ["btf", "dump", "file", obj, "-j"], {
          maxBuffer: 1 << 28,
        }).toString(),
      );
      bitfields = probes.map((p) => btf.bitfield(p.type, p.member));
    }
    return { values, bitfields };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface BtfMember {
  name: string;
  type_id: number;
  bits_offset: number;
  bitfield_size?: number;
}

interface BtfType {
  id: number;
  kind: string;
  name: string;
  members?: BtfMember[];
}

// Member positions as clang recorded them in BTF (bpftool's JSON dump).
class BtfIndex {
  private readonly byId = new Map<number, BtfType>();
  private readonly byName = new Map<string, BtfType>();

  constructor(json: string) {
    for (const t of (JSON.parse(json) as { types: BtfType[] }).types) {
      this.byId.set(t.id, t);
      if (t.kind === "STRUCT" || t.kind === "UNION")
        this.byName.set(`${t.kind === "STRUCT" ? "struct" : "union"} ${t.name}`, t);
    }
  }

  bitfield(type: string, member: string): BitfieldAnswer {
    const t = this.byName.get(type);
    const found = t && this.find(t, member, 0);
    if (!found) throw new Error(`${type}.${member} not in clang's BTF`);
    return found;
  }

  private find(t: BtfType, member: string, base: number): BitfieldAnswer | undefined {
    for (const m of t.members ?? []) {
      if (m.name === member)
        return { bitOffset: base + m.bits_offset, bitWidth: m.bitfield_size ?? 0 };
      if (m.name === "(anon)" || m.name === "") {
        const inner = this.byId.get(m.type_id);
        const found = inner && this.find(inner, member, base + m.bits_offset);
        if (found) return found;
      }
    }
    return undefined;
  }
}

// The bytes of a defined data symbol in an ELF64 little-endian relocatable object.
function symbolBytes(elf: Buffer, name: string): Buffer {
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const base = shoff + i * shentsize;
    sections.push({
      type: elf.readUInt32LE(base + 4),
      offset: Number(elf.readBigUInt64LE(base + 0x18)),
      size: Number(elf.readBigUInt64LE(base + 0x20)),
      link: elf.readUInt32LE(base + 0x28),
    });
  }
  const symtab = sections.find((s) => s.type === 2)!;
  const strtab = sections[symtab.link]!;
  for (let off = symtab.offset; off < symtab.offset + symtab.size; off += 24) {
    const nameOff = elf.readUInt32LE(off);
    let end = strtab.offset + nameOff;
    while (elf[end] !== 0) end++;
    if (elf.toString("latin1", strtab.offset + nameOff, end) !== name) continue;
    const shndx = elf.readUInt16LE(off + 6);
    const value = Number(elf.readBigUInt64LE(off + 8));
    const size = Number(elf.readBigUInt64LE(off + 16));
    const sec = sections[shndx]!;
    return elf.subarray(sec.offset + value, sec.offset + value + size);
  }
  throw new Error(`symbol ${name} not in clang's object`);
}
