// The simulated kernel's BTF (what /sys/kernel/btf/vmlinux is on a real machine), generated from
// the same type definitions (vmlinux.ts) that lay out its memory (layout.ts): every struct,
// union, enum and typedef with member bit offsets and bit-fields exactly as the kernel places
// its objects, so CO-RE relocation against this BTF yields the offsets the kernel really uses.
// With a kernel, its functions (the ones in kallsyms with a C prototype) get FUNC entries too.
//
// Identical derived types (pointers, qualifiers, arrays, prototypes) are shared, as in a
// deduplicated vmlinux BTF. A `__user` pointer points through a TYPE_TAG "user", as clang and
// pahole record it.
import {
  addBtfType,
  BTF_FUNC_STATIC,
  BTF_INT_BOOL,
  BTF_INT_SIGNED,
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FUNC,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_FWD,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_TYPEDEF,
  BTF_KIND_UNION,
  BTF_KIND_VOLATILE,
  createBtf,
  type Btf,
  type BtfMember,
  type NewBtfType,
} from "../btf/btf.js";
import type { CType, EnumType, FuncType, RecordType, TypeRegistry } from "./ctypes.js";
import { KernelTypeError } from "./error.js";
import { enumSize, layoutRecord } from "./layout.js";
import { kernelTypes } from "./vmlinux.js";

/** A kernel function as BTF describes it: a name and its C prototype. */
export interface KernelFunctionType {
  readonly name: string;
  readonly type: FuncType;
}

/** What kernelBtf() needs of a SimKernel: its functions (name -> prototype). */
export interface KernelWithFunctions {
  readonly functions: ReadonlyMap<string, KernelFunctionType>;
}

/** pahole's array index type */
const ARRAY_INDEX_TYPE = "__ARRAY_SIZE_TYPE__";

let typesOnly: Btf | undefined;
const perKernel = new WeakMap<KernelWithFunctions, Btf>();

/**
 * The BTF of the simulated kernel's types; with `kernel`, also a FUNC for each of its kernel
 * functions. Built once (per kernel) and shared: callers must not modify it.
 */
export function kernelBtf(kernel?: KernelWithFunctions): Btf {
  if (kernel === undefined) {
    typesOnly ??= buildKernelBtf(kernelTypes(), []);
    return typesOnly;
  }
  let btf = perKernel.get(kernel);
  if (btf === undefined) {
    btf = buildKernelBtf(kernelTypes(), [...kernel.functions.values()]);
    perKernel.set(kernel, btf);
  }
  return btf;
}

/** BTF for every definition of `types` (in definition order) and for `functions`. */
export function buildKernelBtf(types: TypeRegistry, functions: readonly KernelFunctionType[]): Btf {
  const builder = new KernelBtfBuilder();
  for (const def of types.definitions()) builder.typeId(def);
  for (const fn of functions) builder.func(fn);
  return builder.btf;
}

class KernelBtfBuilder {
  readonly btf = createBtf();
  /** named and anonymous records, enums, typedefs: one BTF type per C type object */
  private readonly byObject = new Map<CType, number>();
  /** derived types by structure (kind and referenced ids) */
  private readonly byShape = new Map<string, number>();
  private indexType = 0;

  typeId(type: CType): number {
    switch (type.kind) {
      case "void":
        return 0;
      case "int":
        return this.shared(`int:${type.name}`, () => ({
          kind: BTF_KIND_INT,
          name: type.name,
          kindFlag: false,
          size: type.size,
          encoding: type.bool ? BTF_INT_BOOL : type.signed ? BTF_INT_SIGNED : 0,
          bitOffset: 0,
          bits: type.size * 8,
        }));
      case "ptr": {
        let to = this.typeId(type.to);
        if (type.user) to = this.shared(`tag:user:${to}`, () => ref(BTF_KIND_TYPE_TAG, to, "user"));
        return this.shared(`ptr:${to}`, () => ref(BTF_KIND_PTR, to));
      }
      case "const":
      case "volatile": {
        const to = this.typeId(type.type);
        const kind = type.kind === "const" ? BTF_KIND_CONST : BTF_KIND_VOLATILE;
        return this.shared(`${type.kind}:${to}`, () => ref(kind, to));
      }
      case "array": {
        const of = this.typeId(type.of);
        const nelems = Math.max(type.length, 0);
        const index = this.arrayIndexType();
        return this.shared(`array:${of}:${nelems}`, () => ({
          kind: BTF_KIND_ARRAY,
          name: "",
          kindFlag: false,
          type: of,
          indexType: index,
          nelems,
        }));
      }
      case "func":
        return this.proto(type);
      case "typedef":
        return this.once(
          type,
          () => ref(BTF_KIND_TYPEDEF, 0, type.name),
          (id) => {
            setRef(this.btf, id, this.typeId(type.type));
          },
        );
      case "enum":
        return this.once(type, () => enumType(type));
      case "struct":
      case "union":
        return this.once(
          type,
          () => recordShell(type),
          (id) => this.fillRecord(id, type),
        );
    }
  }

  func(fn: KernelFunctionType): void {
    const proto = this.proto(fn.type);
    addBtfType(this.btf, {
      kind: BTF_KIND_FUNC,
      name: fn.name,
      kindFlag: false,
      type: proto,
      linkage: BTF_FUNC_STATIC,
    });
  }

  private proto(type: FuncType): number {
    const ret = this.typeId(type.ret);
    const params = type.params.map((p) => ({ name: p.name, type: this.typeId(p.type) }));
    // a variadic prototype ends with an unnamed void parameter
    if (type.variadic) params.push({ name: "", type: 0 });
    const key = `proto:${ret}(${params.map((p) => `${p.name}=${p.type}`).join(",")})`;
    return this.shared(key, () => ({
      kind: BTF_KIND_FUNC_PROTO,
      name: "",
      kindFlag: false,
      type: ret,
      params,
    }));
  }

  private arrayIndexType(): number {
    this.indexType ||= addBtfType(this.btf, {
      kind: BTF_KIND_INT,
      name: ARRAY_INDEX_TYPE,
      kindFlag: false,
      size: 4,
      encoding: 0,
      bitOffset: 0,
      bits: 32,
    });
    return this.indexType;
  }

  private shared(key: string, make: () => NewBtfType): number {
    let id = this.byShape.get(key);
    if (id === undefined) {
      id = addBtfType(this.btf, make());
      this.byShape.set(key, id);
    }
    return id;
  }

  /** The type's id, adding it first (then `fill`, which may refer back to it) on first use. */
  private once(type: CType, make: () => NewBtfType, fill?: (id: number) => void): number {
    let id = this.byObject.get(type);
    if (id === undefined) {
      id = addBtfType(this.btf, make());
      this.byObject.set(type, id);
      fill?.(id);
    }
    return id;
  }

  private fillRecord(id: number, record: RecordType): void {
    if (record.members === undefined) return; // a FWD
    const layout = layoutRecord(record);
    const members: BtfMember[] = layout.members.map((m) => ({
      name: m.member.name,
      nameOff: this.btf.strings.add(m.member.name),
      type: this.typeId(m.member.type),
      bitOffset: m.bitOffset,
      bitfieldSize: m.bitSize,
    }));
    const t = this.btf.types[id]!;
    if (t.kind !== BTF_KIND_STRUCT && t.kind !== BTF_KIND_UNION)
      throw new KernelTypeError(`kernel BTF: [${id}] is not the record ${record.name}`);
    t.members = members;
    t.size = layout.size;
    t.kindFlag = members.some((m) => m.bitfieldSize !== 0);
  }
}

function ref(
  kind:
    | typeof BTF_KIND_PTR
    | typeof BTF_KIND_TYPEDEF
    | typeof BTF_KIND_CONST
    | typeof BTF_KIND_VOLATILE
    | typeof BTF_KIND_TYPE_TAG,
  type: number,
  name = "",
): NewBtfType {
  return { kind, name, kindFlag: false, type };
}

function setRef(btf: Btf, id: number, target: number): void {
  const t = btf.types[id]!;
  if (t.kind !== BTF_KIND_TYPEDEF) throw new KernelTypeError(`kernel BTF: [${id}] not a typedef`);
  t.type = target;
}

/** A struct/union without members yet (members are filled after the id exists), or a FWD. */
function recordShell(record: RecordType): NewBtfType {
  if (record.members === undefined)
    return { kind: BTF_KIND_FWD, name: record.name, kindFlag: record.kind === "union" };
  return {
    kind: record.kind === "struct" ? BTF_KIND_STRUCT : BTF_KIND_UNION,
    name: record.name,
    kindFlag: false,
    size: 0,
    members: [],
  };
}

const TWO_32 = 0x100000000;

function enumType(type: EnumType): NewBtfType {
  const values = type.values ?? [];
  const signed = values.some((v) => v.value < 0);
  if (values.length > 0 && enumSize(type) === 8) {
    return {
      kind: BTF_KIND_ENUM64,
      name: type.name,
      kindFlag: signed,
      size: 8,
      values: values.map((v) => ({
        name: v.name,
        lo: (v.value % TWO_32) >>> 0,
        hi: Math.floor(v.value / TWO_32) >>> 0,
      })),
    };
  }
  return {
    kind: BTF_KIND_ENUM,
    name: type.name,
    kindFlag: signed,
    size: 4,
    values: values.map((v) => ({ name: v.name, value: v.value | 0 })),
  };
}
