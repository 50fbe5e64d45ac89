// What ordinary identifiers mean at the current point of the parse (the "lexer hack", done in
// the parser): C decides `T * x;` by whether T names a type in the innermost scope that declares
// T, and clang reads `foo x;` as a declaration with an unknown type only when foo is not declared
// at all. One map holds what is visible now; each scope keeps an undo log of the names it
// declared, restored when it closes. `generation` changes whenever some name starts or stops
// being a typedef name, so the parser can cache the classification of lookahead tokens.

interface Undo {
  name: string;
  /** What `visible` held before: true typedef, false ordinary identifier, undefined nothing. */
  previous: boolean | undefined;
}

export class TypedefScopes {
  /** Name -> true if it is a typedef name here, false if an ordinary identifier. */
  private readonly visible = new Map<string, boolean>();
  /**
   * Ordinary identifiers declared at file scope and never typedefs. Kept apart so that the map
   * asked about every identifier token stays small (a vmlinux.h declares tens of thousands of
   * enumerators).
   */
  private readonly fileScopeNames = new Set<string>();
  /**
   * File-scope ordinary names not yet in fileScopeNames: only isDeclared reads them, rarely, so
   * declare (once per enumerator of a vmlinux.h) only appends.
   */
  private readonly newFileScopeNames: string[] = [];
  private readonly undo: Undo[][] = [];
  generation = 1;

  /**
   * @param base what was declared before (the front end's prefix cache): read, never changed;
   *   this object's own maps hold what is declared after it and shadow it
   */
  constructor(
    builtinTypedefs: Iterable<string>,
    private readonly base?: TypedefScopes,
  ) {
    for (const name of builtinTypedefs) this.visible.set(name, true);
    if (base !== undefined) this.generation = base.generation;
  }

  /** A copy to go on from, at file scope (the front end's prefix cache). */
  clone(): TypedefScopes {
    if (this.undo.length !== 0) throw new Error("TypedefScopes.clone: only at file scope");
    const copy = this.base !== undefined ? this.base.clone() : new TypedefScopes([]);
    for (const [name, typedef] of this.visible) copy.visible.set(name, typedef);
    for (const name of this.fileScopeNames) copy.fileScopeNames.add(name);
    for (const name of this.newFileScopeNames) copy.fileScopeNames.add(name);
    copy.generation = this.generation;
    return copy;
  }

  /** What `name` means where the parse is: true typedef, false ordinary, undefined nothing. */
  private meaning(name: string): boolean | undefined {
    const own = this.visible.get(name);
    return own !== undefined || this.base === undefined ? own : this.base.visible.get(name);
  }

  get depth(): number {
    return this.undo.length;
  }

  isTypedef(name: string): boolean {
    return this.meaning(name) === true;
  }

  /** Declared in some enclosing scope (as a typedef or an ordinary identifier)? */
  isDeclared(name: string): boolean {
    const added = this.newFileScopeNames;
    for (let i = 0; i < added.length; i++) this.fileScopeNames.add(added[i]!);
    added.length = 0;
    return (
      this.meaning(name) !== undefined ||
      this.fileScopeNames.has(name) ||
      (this.base !== undefined && this.base.fileScopeNames.has(name))
    );
  }

  push(): void {
    this.undo.push([]);
  }

  pop(): void {
    const log = this.undo.pop();
    if (log === undefined || log.length === 0) return;
    let typesChanged = false;
    for (let i = log.length - 1; i >= 0; i--) {
      const { name, previous } = log[i]!;
      if (previous === true || this.meaning(name) === true) typesChanged = true;
      // Nothing was visible before: the name is not in `base` either, so deleting it is enough.
      if (previous === undefined) this.visible.delete(name);
      else this.visible.set(name, previous);
    }
    if (typesChanged) this.generation++;
  }

  /** Restores the scope depth after an error unwound past scope-closing code. */
  popTo(depth: number): void {
    while (this.undo.length > depth) this.pop();
  }

  /** Declares `name` in the innermost scope as a typedef name or as an ordinary identifier. */
  declare(name: string, isTypedef: boolean): void {
    const previous = this.meaning(name);
    if (!isTypedef && previous === undefined && this.undo.length === 0) {
      this.newFileScopeNames.push(name);
      return;
    }
    if (previous === isTypedef) return;
    const log = this.undo[this.undo.length - 1];
    // File-scope declarations are never undone.
    if (log !== undefined) log.push({ name, previous });
    this.visible.set(name, isTypedef);
    if (isTypedef || previous === true) this.generation++;
  }
}
