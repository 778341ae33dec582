import { metricLabel, METRIC_ROOT } from "../../assembly/metrics";

describe("metricLabel (plugins/README.md, Metrics)", () => {
  it("writes <label>=.=<value>;.; — the encoding the tag extractors cut out", () => {
    expect(metricLabel("rule", "per-key")).toBe("rule=.=per-key;.;");
    expect(metricLabel("consumer", "alice@example.com")).toBe("consumer=.=alice@example.com;.;");
    expect(metricLabel("canary_tag", "v2.1:beta_X")).toBe("canary_tag=.=v2.1:beta_X;.;");
  });
  it("turns characters that could split the encoding (or a Prometheus label) into '_'", () => {
    expect(metricLabel("rule", "a;.;b=.=c")).toBe("rule=.=a_._b_._c;.;");
    expect(metricLabel("consumer", "bob smith/\"x\"")).toBe("consumer=.=bob_smith__x_;.;");
    expect(metricLabel("consumer", "é")).toBe("consumer=.=_;.;");
    expect(metricLabel("consumer", "")).toBe("consumer=.=;.;");
  });
  it("every name starts with tollgate.", () => {
    expect(METRIC_ROOT).toBe("tollgate.");
  });
});
