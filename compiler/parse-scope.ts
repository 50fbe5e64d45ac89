// Which ordinary identifiers are typedef names at the current point of the parse (the "lexer
// hack", done in the parser): C decides `T * x;` by whether T names a type in the innermost scope
// that declares T. One map holds what is visible now; each scope keeps an undo log of the names it
// changed, restored when it closes. `generation` changes whenever the answer for some name
// changes, so the parser can cache classifications of lookahead tokens between changes.

interface Undo {
  name: string;
  /** What `visible` held before: true typedef, false ordinary shadowing a typedef, undefined. */
  previous: boolean | undefined;
}

export class TypedefScopes {
  /** Name -> true if it is a typedef name here, false if an ordinary identifier hides one. */
  private readonly visible = new Map<string, boolean>();
  private readonly undo: Undo[][] = [];
  generation = 1;

  constructor(builtinTypedefs: Iterable<string>) {
    for (const name of builtinTypedefs) this.visible.set(name, true);
  }

  get depth(): number {
    return this.undo.length;
  }

  isTypedef(name: string): boolean {
    return this.visible.get(name) === true;
  }

  push(): void {
    this.undo.push([]);
  }

  pop(): void {
    const log = this.undo.pop();
    if (log === undefined || log.length === 0) return;
    for (let i = log.length - 1; i >= 0; i--) {
      const { name, previous } = log[i]!;
      if (previous === undefined) this.visible.delete(name);
      else this.visible.set(name, previous);
    }
    this.generation++;
  }

  /** Restores the scope depth after an error unwound past scope-closing code. */
  popTo(depth: number): void {
    while (this.undo.length > depth) this.pop();
  }

  /** Declares `name` in the innermost scope as a typedef name or as an ordinary identifier. */
  declare(name: string, isTypedef: boolean): void {
    const previous = this.visible.get(name);
    // An ordinary name where no typedef is visible changes nothing the parser asks about.
    if (!isTypedef && previous !== true) return;
    if (isTypedef && previous === true) {
      // A redeclared typedef at file scope (allowed in C11) or in a block: still a type.
      const log = this.undo[this.undo.length - 1];
      if (log !== undefined) log.push({ name, previous });
      return;
    }
    const log = this.undo[this.undo.length - 1];
    if (log !== undefined) log.push({ name, previous });
    this.visible.set(name, isTypedef);
    this.generation++;
  }
}
