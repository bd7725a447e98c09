/** The Prometheus text format as prom-client 15 wrote it (the bytes scrapers saw before it was replaced). */
import { describe, expect, test } from "bun:test";
import { Histogram, Reading, Registry, Value } from "../../../src/metrics/exposition.ts";

describe("Prometheus exposition", () => {
  test("series in first-use order, label values escaped, families separated by a blank line", () => {
    const reg = new Registry();
    const hits = reg.add(new Value("hits_total", "Hits by path.\nSecond line \\ too.", "counter", ["path", "code"]));
    const temp = reg.add(new Value("temp", "Temperature.", "gauge", ["room"]));
    reg.add(new Value("unused_total", "Never counted.", "counter", ["x"]));
    reg.add(new Value("zero_total", "Without labels: 0 before any count.", "counter", []));
    hits.inc(["/b", "200"]);
    hits.inc(["/a", "500"], 2);
    hits.inc(["/b", "200"]);
    hits.inc(['say "hi"\\\n', "200"]);
    temp.set(["kitchen"], 21.5);
    temp.set(["kitchen"], Number.NaN);
    expect(reg.text()).toBe(
      [
        "# HELP hits_total Hits by path.\\nSecond line \\\\ too.",
        "# TYPE hits_total counter",
        'hits_total{path="/b",code="200"} 2',
        'hits_total{path="/a",code="500"} 2',
        'hits_total{path="say \\"hi\\"\\\\\\n",code="200"} 1',
        "",
        "# HELP temp Temperature.",
        "# TYPE temp gauge",
        'temp{room="kitchen"} Nan',
        "",
        "# HELP unused_total Never counted.",
        "# TYPE unused_total counter",
        "",
        "# HELP zero_total Without labels: 0 before any count.",
        "# TYPE zero_total counter",
        "zero_total 0",
        "",
      ].join("\n"),
    );
  });

  test("histogram buckets are cumulative, le first, +Inf counts everything", () => {
    const reg = new Registry();
    const h = reg.add(new Histogram("lat_seconds", "Latency.", ["model"], [0.1, 1, 2.5]));
    for (const v of [0.05, 0.1, 0.7, 3, 99]) h.observe(["m"], v);
    const none = reg.add(new Histogram("plain", "No labels.", [], [1]));
    none.observe([], Number.POSITIVE_INFINITY);
    expect(reg.text()).toBe(
      [
        "# HELP lat_seconds Latency.",
        "# TYPE lat_seconds histogram",
        'lat_seconds_bucket{le="0.1",model="m"} 2',
        'lat_seconds_bucket{le="1",model="m"} 3',
        'lat_seconds_bucket{le="2.5",model="m"} 3',
        'lat_seconds_bucket{le="+Inf",model="m"} 5',
        'lat_seconds_sum{model="m"} 102.85',
        'lat_seconds_count{model="m"} 5',
        "",
        "# HELP plain No labels.",
        "# TYPE plain histogram",
        'plain_bucket{le="1"} 0',
        'plain_bucket{le="+Inf"} 1',
        "plain_sum +Inf",
        "plain_count 1",
        "",
      ].join("\n"),
    );
  });

  test("a series handle (labels) writes the same series as direct calls, and appears only once used", () => {
    const reg = new Registry();
    const hits = reg.add(new Value("hits_total", "Hits.", "counter", ["path"]));
    const lat = reg.add(new Histogram("lat", "Latency.", ["path"], [1]));
    const hitsA = hits.labels(["/a"]);
    const latA = lat.labels(["/a"]);
    hits.labels(["/unused"]);
    lat.labels(["/unused"]);
    expect(reg.text()).not.toContain("/a");
    hitsA.inc();
    hits.inc(["/a"], 2);
    latA.observe(0.5);
    lat.observe(["/a"], 3);
    const text = reg.text();
    expect(text).toContain('hits_total{path="/a"} 3\n');
    expect(text).toContain('lat_bucket{le="1",path="/a"} 1\nlat_bucket{le="+Inf",path="/a"} 2\nlat_sum{path="/a"} 3.5\nlat_count{path="/a"} 2\n');
    expect(text).not.toContain("/unused");
  });

  test("a reading is taken each time the text is written", () => {
    let n = 0;
    const reg = new Registry();
    reg.add(new Reading("reads_total", "Reads.", "counter", () => ++n));
    expect(reg.text()).toContain("\nreads_total 1\n");
    expect(reg.text()).toContain("\nreads_total 2\n");
  });
});
