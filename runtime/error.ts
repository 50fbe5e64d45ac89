// The base of every error a user can cause (bad input, bad object, rejected program).
// The CLI prints these as one clear message and exits 1; anything else is an internal bug
// and keeps its stack.
export class TsbpfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
