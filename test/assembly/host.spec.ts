import { serializePairs } from "../../assembly/pairs";

describe("serializePairs", () => {
  it("writes the ABI pairs wire format (abi.md §3.1)", () => {
    const buf = serializePairs([["a", "bc"], ["", "d"]]);
    const p = changetype<usize>(buf);
    expect(load<u32>(p)).toBe(2);
    expect(load<u32>(p + 4)).toBe(1);
    expect(load<u32>(p + 8)).toBe(2);
    expect(load<u32>(p + 12)).toBe(0);
    expect(load<u32>(p + 16)).toBe(1);
    // 4 + 2*8 header, then "a\0bc\0" + "\0d\0"
    expect(buf.byteLength).toBe(20 + 5 + 3);
    expect(load<u8>(p + 20)).toBe(<u8>0x61);
    expect(load<u8>(p + 21)).toBe(0);
  });
});
