// Type-name rules of CO-RE: a name's "essential" part ends before its last `___suffix` (a
// flavour), so `task_struct___old` is a candidate for `task_struct`.

/** Is `name` at `i` the start of a flavour separator: a non-'_' char, then "___", then non-'_'? */
function isFlavourSeparator(name: string, i: number): boolean {
  return (
    name[i] !== "_" &&
    name[i + 1] === "_" &&
    name[i + 2] === "_" &&
    name[i + 3] === "_" &&
    name[i + 4] !== "_"
  );
}

/** Length of the name without its flavour: "sk___v1" -> 2; "___x" and "a____b" keep all. */
export function essentialNameLength(name: string): number {
  for (let i = name.length - 5; i >= 0; i--) {
    if (isFlavourSeparator(name, i)) return i + 1;
  }
  return name.length;
}

export const essentialName = (name: string): string => name.slice(0, essentialNameLength(name));

/** Same essential name (both flavour-less parts equal). */
export const sameEssentialName = (a: string, b: string): boolean =>
  essentialName(a) === essentialName(b);
