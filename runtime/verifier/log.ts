// The verifier log buffer, with the kernel's mechanics: text is appended, positions are
// absolute byte counts, and the log can be cut back to an earlier position (log_level 1 drops
// the trace of every path that verified, keeping only the failing one). Past `limit` bytes the
// oldest text is dropped (the kernel's rotating log keeps the tail too).
import type { FuncState, VerifierState } from "./state.js";
import { BPF_REG_SIZE, STACK_SPILL } from "./state.js";
import { regString } from "./print.js";
import { RegType } from "./reg.js";

export class VerifierLog {
  // The text is a list of pieces: appending and cutting back the newest text stay cheap even
  // when the log holds megabytes.
  private parts: string[] = [];
  /** index of the first piece still kept (older ones were dropped past the limit) */
  private first = 0;
  /** absolute position of the start of parts[first] */
  private start = 0;
  private length = 0;
  truncated = false;

  constructor(
    readonly level: number,
    readonly limit: number,
  ) {}

  get end(): number {
    return this.start + this.length;
  }

  write(s: string): void {
    if (this.level === 0 || s.length === 0) return;
    this.parts.push(s);
    this.length += s.length;
    while (this.length > this.limit && this.first < this.parts.length - 1) {
      const dropped = this.parts[this.first]!;
      this.parts[this.first++] = "";
      this.start += dropped.length;
      this.length -= dropped.length;
      this.truncated = true;
    }
    if (this.first > 4096 && this.first > this.parts.length / 2) {
      this.parts = this.parts.slice(this.first);
      this.first = 0;
    }
  }

  /** Cut the log back to absolute position `pos` (bpf_vlog_reset). */
  reset(pos: number): void {
    if (pos >= this.end) return;
    if (pos <= this.start) {
      this.parts = [];
      this.first = 0;
      this.start = pos;
      this.length = 0;
      return;
    }
    let keep = pos - this.start;
    while (this.length > keep) {
      const last = this.parts[this.parts.length - 1]!;
      if (this.length - last.length >= keep) {
        this.parts.pop();
        this.length -= last.length;
      } else {
        const cut = last.length - (this.length - keep);
        this.parts[this.parts.length - 1] = last.slice(0, cut);
        this.length = keep;
      }
    }
    keep = 0;
  }

  toString(): string {
    return this.parts.slice(this.first).join("");
  }
}

/** Alignment of the "; state" column after an instruction of `len` bytes (vlog_alignment). */
export function stateColumnPad(len: number): number {
  const aligned = Math.ceil(Math.max(len + 4, 40) / 8) * 8;
  return aligned - len - 1;
}

/** Which registers and stack slots of the current frame changed since the last state print. */
export class Scratch {
  regs = 0;
  /** slots 0..31 and 32..63 as bit sets */
  slotsLo = 0;
  slotsHi = 0;
  all = true;

  reg(r: number): void {
    this.regs |= 1 << r;
  }

  slot(spi: number): void {
    if (spi < 32) this.slotsLo |= 1 << spi;
    else this.slotsHi |= 1 << (spi - 32);
  }

  markAll(): void {
    this.all = true;
  }

  clean(): void {
    this.regs = 0;
    this.slotsLo = 0;
    this.slotsHi = 0;
    this.all = false;
  }

  get any(): boolean {
    return this.all || this.regs !== 0 || this.slotsLo !== 0 || this.slotsHi !== 0;
  }

  hasReg(r: number): boolean {
    return this.all || (this.regs & (1 << r)) !== 0;
  }

  hasSlot(spi: number): boolean {
    if (this.all) return true;
    return spi < 32 ? (this.slotsLo & (1 << spi)) !== 0 : (this.slotsHi & (1 << (spi - 32))) !== 0;
  }
}

/**
 * One frame of a state as print_verifier_state() writes it: " R0=... fp-8=... refs=2\n".
 * With `scratch`, only the scratched registers and slots.
 */
export function stateText(vstate: VerifierState, frame: FuncState, scratch?: Scratch): string {
  let s = frame.frameno ? ` frame${frame.frameno}:` : "";
  for (let i = 0; i < frame.regs.length; i++) {
    const reg = frame.regs[i]!;
    if (reg.type === RegType.NOT_INIT) continue;
    if (scratch && !scratch.hasReg(i)) continue;
    s += ` R${i}=${regString(reg, frame.frameno)}`;
  }
  for (let spi = 0; spi < frame.stack.length; spi++) {
    if (scratch && !scratch.hasSlot(spi)) continue;
    const slot = frame.stack[spi]!;
    if (slot.isEmpty) continue;
    const off = -(spi + 1) * BPF_REG_SIZE;
    let types = slot.typeString();
    if (slot.typeAt(7) === STACK_SPILL && slot.spilled) {
      // Only the bytes above a narrow spill are shown as types.
      let j = 0;
      while (j < 8 && slot.typeAt(j) !== STACK_SPILL) j++;
      types = types.slice(0, j);
      s += ` fp${off}=${types}${regString(slot.spilled, frame.frameno)}`;
    } else {
      s += ` fp${off}=${types}`;
    }
  }
  if (vstate.refs.length) s += ` refs=${vstate.refs.map((r) => r.id).join(",")}`;
  if (frame.inCallbackFn) s += " cb";
  return s + "\n";
}
