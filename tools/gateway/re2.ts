// A linear-time matcher for the RE2 syntax the admin `/stats?filter=` takes (Envoy compiles the filter with
// RE2). Parse → Thompson NFA → simulation over the set of live states: O(pattern × name) per name, no
// backtracking, so no filter can stall the engine (attack-findings #5: `new RegExp(filter)` could).
// Covers literals, `.`, escapes (\d \w \s and their negations, \b \B, \A \z, punctuation), classes with
// ranges / negation / POSIX `[:name:]`, groups (capturing, `(?:`, `(?P<n>`), flags i/m/s/U, alternation,
// `* + ?` (greedy or lazy) and `{n}`, `{n,}`, `{n,m}` up to RE2's 1000. What RE2 refuses is refused with
// RE2's message (Envoy answers 400 "Invalid re2 regex: <message>"); the few RE2 features outside this
// subset (Unicode classes \p, \pN) are refused with a message naming them instead of running unchecked.

export class Re2SyntaxError extends Error {}

type Node =
  | { k: "set"; test: (c: number) => boolean }
  | { k: "cat"; items: Node[] }
  | { k: "alt"; items: Node[] }
  | { k: "rep"; node: Node; min: number; max: number }
  | { k: "assert"; a: "bol" | "eol" | "word" | "nonword" }
  | { k: "empty" };

const MAX_REPEAT = 1000; // RE2's limit on {n,m}
const MAX_STATES = 100_000; // RE2 refuses programs past its memory budget ("pattern too large")

const isWord = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13 && c !== 11);
const fold = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c >= 97 && c <= 122 ? c - 32 : c);

const POSIX: Record<string, (c: number) => boolean> = {
  alnum: (c) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  alpha: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  ascii: (c) => c <= 0x7f,
  blank: (c) => c === 32 || c === 9,
  cntrl: (c) => c < 32 || c === 0x7f,
  digit: isDigit,
  graph: (c) => c > 32 && c < 0x7f,
  lower: (c) => c >= 97 && c <= 122,
  print: (c) => c >= 32 && c < 0x7f,
  punct: (c) => c > 32 && c < 0x7f && !isWord(c) || c === 95,
  space: (c) => isSpace(c) || c === 11,
  upper: (c) => c >= 65 && c <= 90,
  word: isWord,
  xdigit: (c) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102),
};

const PERL: Record<string, (c: number) => boolean> = {
  d: isDigit,
  D: (c) => !isDigit(c),
  w: isWord,
  W: (c) => !isWord(c),
  s: isSpace,
  S: (c) => !isSpace(c),
};

class Parser {
  i = 0;
  icase = false;
  dotNl = false;
  constructor(readonly src: string) {}

  fail(msg: string): never {
    throw new Re2SyntaxError(msg);
  }

  parse(): Node {
    const n = this.alternation();
    if (this.i < this.src.length) this.fail(`unexpected ): ${this.src}`);
    return n;
  }

  private alternation(): Node {
    const items = [this.concat()];
    while (this.src[this.i] === "|") {
      this.i++;
      items.push(this.concat());
    }
    return items.length === 1 ? items[0] : { k: "alt", items };
  }

  private concat(): Node {
    const items: Node[] = [];
    const saved = this.icase;
    while (this.i < this.src.length && this.src[this.i] !== "|" && this.src[this.i] !== ")") {
      const atom = this.atom();
      if (atom === null) continue; // a flag group: changes the flags for the rest of this group
      items.push(this.repeat(atom));
    }
    this.icase = saved;
    return items.length === 1 ? items[0] : items.length === 0 ? { k: "empty" } : { k: "cat", items };
  }

  /** One repetition operator after an atom, if any; RE2 refuses a second one directly after (`a**`). */
  private repeat(atom: Node): Node {
    const op = this.repetitionOp();
    if (op === null) return atom;
    const again = this.i;
    if (this.repetitionOp() !== null) this.fail(`bad repetition operator: ${this.src.slice(op.at, this.i)}`);
    this.i = again;
    // RE2 allows repeating an empty-width assertion: it then matches as the assertion or as nothing.
    if (atom.k === "assert" || atom.k === "empty") return op.min === 0 ? { k: "alt", items: [atom, { k: "empty" }] } : atom;
    return { k: "rep", node: atom, min: op.min, max: op.max };
  }

  private repetitionOp(): { min: number; max: number; at: number } | null {
    const at = this.i;
    const c = this.src[this.i];
    let min: number;
    let max: number;
    if (c === "*" || c === "+" || c === "?") {
      this.i++;
      [min, max] = c === "*" ? [0, -1] : c === "+" ? [1, -1] : [0, 1];
    } else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (!m) return null; // a literal '{', as RE2 reads it
      this.i += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? -1 : Number(m[3]);
      if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && max < min)) this.fail(`invalid repetition size: ${m[0]}`);
    } else return null;
    if (this.src[this.i] === "?") this.i++; // lazy: the same set of matching names
    return { min, max, at };
  }

  private lit(code: number): Node {
    if (this.icase && fold(code) !== code) {
      const other = fold(code);
      return { k: "set", test: (c) => c === code || c === other };
    }
    return { k: "set", test: (c) => c === code };
  }

  private withCase(test: (c: number) => boolean): (c: number) => boolean {
    return this.icase ? (c) => test(c) || test(fold(c)) : test;
  }

  /** One atom; null for a flag-setting group `(?i)`. */
  private atom(): Node | null {
    const c = this.src[this.i];
    if (c === "*" || c === "+" || c === "?") this.fail(`missing argument to repetition operator: ${c}`);
    if (c === "{" && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.i))) this.fail(`missing argument to repetition operator: ${/^\{[^}]*\}/.exec(this.src.slice(this.i))![0]}`);
    if (c === "(") return this.group();
    if (c === "[") return this.charClass();
    if (c === "\\") return this.escape(false) as Node;
    this.i++;
    if (c === ".") {
      const nl = this.dotNl;
      return { k: "set", test: (x) => nl || x !== 10 };
    }
    if (c === "^") return { k: "assert", a: "bol" };
    if (c === "$") return { k: "assert", a: "eol" };
    return this.lit(this.src.charCodeAt(this.i - 1));
  }

  private group(): Node | null {
    const open = this.i;
    this.i++;
    let savedIcase = this.icase;
    if (this.src[this.i] === "?") {
      const rest = this.src.slice(this.i);
      const named = /^\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      if (named) this.i += named[0].length;
      else {
        const flags = /^\?(-?[imsU]+|[imsU]*-[imsU]*)(:|\))/.exec(rest) ?? /^\?()(:)/.exec(rest);
        if (!flags) {
          const op = /^\?P?<|^\?P=|^\?[=!<]|^\?./.exec(rest)?.[0] ?? "?";
          this.fail(/^\?P?</.test(rest) ? `invalid named capture group: ${this.src.slice(open)}` : `invalid perl operator: (${op}`);
        }
        let on = true;
        for (const f of flags[1]) {
          if (f === "-") on = false;
          else if (f === "i") this.icase = on;
          else if (f === "s") this.dotNl = on;
        }
        this.i += flags[0].length;
        if (flags[2] === ")") {
          savedIcase = this.icase; // (?i) applies to the rest of the enclosing group
          return null;
        }
      }
    }
    const inner = this.alternation();
    if (this.src[this.i] !== ")") this.fail(`missing ): ${this.src}`);
    this.i++;
    this.icase = savedIcase;
    return inner;
  }

  /** An escape; in a class, returns the code point's test or a class test. */
  private escape(inClass: boolean): Node | ((c: number) => boolean) | number {
    const start = this.i;
    this.i++;
    if (this.i >= this.src.length) this.fail("trailing \\");
    const c = this.src[this.i++];
    if (PERL[c]) {
      const t = PERL[c];
      return inClass ? t : { k: "set", test: this.withCase(t) };
    }
    if (!inClass) {
      if (c === "b") return { k: "assert", a: "word" };
      if (c === "B") return { k: "assert", a: "nonword" };
      if (c === "A") return { k: "assert", a: "bol" };
      if (c === "z") return { k: "assert", a: "eol" };
    }
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, f: 12, v: 11, a: 7 };
    let code: number | undefined = simple[c];
    if (code === undefined && c === "x") {
      const m = /^([0-9A-Fa-f]{2})|^\{([0-9A-Fa-f]{1,6})\}/.exec(this.src.slice(this.i));
      if (!m) this.fail(`invalid escape sequence: ${this.src.slice(start, this.i + 2)}`);
      this.i += m[0].length;
      code = parseInt(m[1] ?? m[2], 16);
    }
    if (code === undefined && c === "0") code = 0;
    if (code === undefined && /[0-7]/.test(c)) this.fail(`invalid escape sequence: \\${c}`);
    if (code === undefined && (c === "p" || c === "P")) this.fail(`invalid character class range: \\${c} (Unicode classes are not supported by tollgate's matcher)`);
    if (code === undefined && /[^\w]/.test(c) && c.charCodeAt(0) < 0x80) code = c.charCodeAt(0);
    if (code === undefined) this.fail(`invalid escape sequence: \\${c}`);
    if (inClass) return code;
    return this.lit(code);
  }

  private charClass(): Node {
    const open = this.i;
    this.i++;
    let negate = false;
    if (this.src[this.i] === "^") {
      negate = true;
      this.i++;
    }
    const tests: Array<(c: number) => boolean> = [];
    let first = true;
    for (;;) {
      if (this.i >= this.src.length) this.fail(`missing ]: ${this.src.slice(open)}`);
      const c = this.src[this.i];
      if (c === "]" && !first) {
        this.i++;
        break;
      }
      first = false;
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.i));
      if (posix) {
        const t = POSIX[posix[2]];
        if (!t) this.fail(`invalid character class range: ${posix[0]}`);
        this.i += posix[0].length;
        tests.push(posix[1] ? (x) => !t(x) : t);
        continue;
      }
      const lo = this.classChar();
      if (typeof lo === "function") {
        tests.push(lo);
        continue;
      }
      if (this.src[this.i] === "-" && this.src[this.i + 1] !== "]" && this.i + 1 < this.src.length) {
        const dash = this.i;
        this.i++;
        const hi = this.classChar();
        if (typeof hi === "function" || hi < lo) this.fail(`invalid character class range: ${this.src.slice(dash - 1, this.i)}`);
        tests.push((x) => x >= lo && x <= hi);
      } else tests.push((x) => x === lo);
    }
    const any = this.withCase((x) => tests.some((t) => t(x)));
    return { k: "set", test: negate ? (x) => !any(x) : any };
  }

  private classChar(): number | ((c: number) => boolean) {
    if (this.src[this.i] === "\\") return this.escape(true) as number | ((c: number) => boolean);
    return this.src.charCodeAt(this.i++);
  }
}

// NFA: states are indices; `next` edges; kinds: 0 = char (test, out), 1 = split (out, out2), 2 = assert, 3 = match.
interface State {
  kind: 0 | 1 | 2 | 3;
  test?: (c: number) => boolean;
  a?: "bol" | "eol" | "word" | "nonword";
  out: number;
  out2: number;
}

class Compiler {
  states: State[] = [];

  add(s: State): number {
    if (this.states.length >= MAX_STATES) throw new Re2SyntaxError("pattern too large - compile failed");
    this.states.push(s);
    return this.states.length - 1;
  }

  /** Compiles `n` so that it continues at `next`; returns its entry state. */
  build(n: Node, next: number): number {
    switch (n.k) {
      case "empty":
        return next;
      case "set":
        return this.add({ kind: 0, test: n.test, out: next, out2: -1 });
      case "assert":
        return this.add({ kind: 2, a: n.a, out: next, out2: -1 });
      case "cat": {
        let at = next;
        for (let i = n.items.length - 1; i >= 0; i--) at = this.build(n.items[i], at);
        return at;
      }
      case "alt": {
        let at = this.build(n.items[n.items.length - 1], next);
        for (let i = n.items.length - 2; i >= 0; i--) at = this.add({ kind: 1, out: this.build(n.items[i], next), out2: at });
        return at;
      }
      case "rep": {
        let at = next;
        if (n.max < 0) {
          // x* : a loop state that enters x (which returns to the loop) or leaves.
          const loop = this.add({ kind: 1, out: -1, out2: next });
          this.states[loop].out = this.build(n.node, loop);
          at = loop;
        } else {
          // The optional copies, nested: x{0,k} = (x(x(…)?)?)?, each able to leave for `next`.
          for (let i = n.min; i < n.max; i++) at = this.add({ kind: 1, out: this.build(n.node, at), out2: next });
        }
        for (let i = 0; i < n.min; i++) at = this.build(n.node, at);
        return at;
      }
    }
  }
}

export interface Re2 {
  /** Whether the pattern matches anywhere in `s` (RE2 PartialMatch, as Envoy's stats filter uses it). */
  test(s: string): boolean;
}

/** Compiles an RE2 pattern; throws Re2SyntaxError with RE2's message for what RE2 refuses. */
export function compileRe2(pattern: string): Re2 {
  const ast = new Parser(pattern).parse();
  const c = new Compiler();
  const match = c.add({ kind: 3, out: -1, out2: -1 });
  const start = c.build(ast, match);
  const states = c.states;
  const n = states.length;
  return {
    test(s: string): boolean {
      let cur = new Int32Array(n);
      let nxt = new Int32Array(n);
      let curLen = 0;
      let nxtLen = 0;
      const mark = new Int32Array(n).fill(-1);
      const stack = new Int32Array(n);
      let gen = 0;
      // Follows splits and assertions from `from` at position `pos`; char states land in the list.
      const addState = (list: Int32Array, len: number, from: number, pos: number): number | true => {
        let sp = 0;
        stack[sp++] = from;
        while (sp > 0) {
          const id = stack[--sp];
          if (id < 0 || mark[id] === gen) continue;
          mark[id] = gen;
          const st = states[id];
          if (st.kind === 3) return true;
          if (st.kind === 1) {
            stack[sp++] = st.out2;
            stack[sp++] = st.out;
          } else if (st.kind === 2) {
            const prev = pos > 0 ? s.charCodeAt(pos - 1) : -1;
            const here = pos < s.length ? s.charCodeAt(pos) : -1;
            const ok =
              st.a === "bol" ? pos === 0 : st.a === "eol" ? pos === s.length : (prev >= 0 && isWord(prev)) !== (here >= 0 && isWord(here)) === (st.a === "word");
            if (ok) stack[sp++] = st.out;
          } else list[len++] = id;
        }
        return len;
      };
      for (let pos = 0; pos <= s.length; pos++) {
        gen++;
        // Unanchored search: a new thread may start at every position.
        for (let k = 0; k < curLen; k++) mark[cur[k]] = gen;
        const r = addState(cur, curLen, start, pos);
        if (r === true) return true;
        curLen = r;
        if (pos === s.length) break;
        const ch = s.charCodeAt(pos);
        gen++;
        nxtLen = 0;
        for (let k = 0; k < curLen; k++) {
          const st = states[cur[k]];
          if (st.test!(ch)) {
            const r2 = addState(nxt, nxtLen, st.out, pos + 1);
            if (r2 === true) return true;
            nxtLen = r2;
          }
        }
        [cur, nxt] = [nxt, cur];
        curLen = nxtLen;
      }
      return false;
    },
  };
}
